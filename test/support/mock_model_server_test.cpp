// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Self-test of the scripted model server, over real sockets on 127.0.0.1. Every wait is bounded.

#include <catch2/catch.hpp>

#include "mock_model_server.hpp"
#include "real_codex.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::tcp;
using codex::testing::MockModelServer;
using codex::testing::MockModelServerOptions;
using codex::testing::RecordedRequest;
using codex::testing::Response;
using namespace std::chrono_literals;

namespace {

constexpr auto kTimeout = 10s;

// A raw HTTP/1.1 exchange: sends one request, then reads with bounded waits.
class Exchange {
 public:
  Exchange(std::uint16_t port, const std::string& request) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    asio::write(socket_, asio::buffer(request));
  }

  // Reads until `needle` was received (true), or EOF / the timeout (false).
  bool read_until(const std::string& needle, std::chrono::milliseconds timeout = kTimeout) {
    return pump([&] { return data_.find(needle) != std::string::npos; }, timeout);
  }

  // Reads until the server closes the connection (true), or the timeout (false).
  bool read_to_eof(std::chrono::milliseconds timeout = kTimeout) {
    pump([] { return false; }, timeout);
    return eof_;
  }

  const std::string& data() const { return data_; }
  bool eof() const { return eof_; }

  std::string status_line() const { return data_.substr(0, data_.find("\r\n")); }
  std::string head() const { return data_.substr(0, data_.find("\r\n\r\n")); }
  std::string body() const {
    auto pos = data_.find("\r\n\r\n");
    return pos == std::string::npos ? std::string() : data_.substr(pos + 4);
  }

 private:
  bool pump(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    ioc_.restart();
    std::function<void()> read_more = [&] {
      if (done() || eof_) return;
      socket_.async_read_some(asio::buffer(buf_), [&](boost::system::error_code ec, std::size_t n) {
        data_.append(buf_.data(), n);
        if (ec) eof_ = true;
        read_more();
      });
    };
    read_more();
    ioc_.run_for(timeout);
    if (!ioc_.stopped()) {  // timed out with a read pending: cancel it and let it finish
      socket_.cancel();
      ioc_.run();
    }
    return done();
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  std::array<char, 4096> buf_{};
  std::string data_;
  bool eof_ = false;
};

std::string post(const std::string& body, const std::string& extra_headers = "") {
  return "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Accept: text/event-stream\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string user_request(const std::string& text) {
  json::object body{
      {"model", "mock-model"},
      {"stream", true},
      {"input",
       json::array{json::object{
           {"type", "message"},
           {"role", "user"},
           {"content", json::array{json::object{{"type", "input_text"}, {"text", text}}}}}}}};
  return post(json::serialize(body));
}

struct SseEvent {
  std::string event;
  json::object data;
};

std::vector<SseEvent> parse_sse(const std::string& body) {
  std::vector<SseEvent> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string frame = body.substr(pos, end - pos);
    pos = end + 2;
    auto nl = frame.find('\n');
    REQUIRE(frame.rfind("event: ", 0) == 0);
    REQUIRE(frame.compare(nl + 1, 6, "data: ") == 0);
    SseEvent ev{frame.substr(7, nl - 7), json::parse(frame.substr(nl + 7)).as_object()};
    REQUIRE(ev.data.at("type").as_string() == ev.event);
    out.push_back(std::move(ev));
  }
  return out;
}

std::vector<std::string> event_types(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e.event);
  return out;
}

std::string joined_deltas(const std::vector<SseEvent>& events, const std::string& type) {
  std::string out;
  for (const auto& e : events)
    if (e.event == type) out += e.data.at("delta").as_string();
  return out;
}

std::string str(const json::value& v) {
  return std::string(v.as_string());
}

}  // namespace

TEST_CASE("streams a message in deltas with a phase, per the Responses API shapes") {
  MockModelServer server;
  server.enqueue(Response::message("Hello there, friend.", {.phase = "commentary", .deltas = 3})
                     .with_usage({.input_tokens = 100, .output_tokens = 7}));
  Exchange ex(server.port(), user_request("Say hello."));
  REQUIRE(ex.read_to_eof());

  CHECK(ex.status_line() == "HTTP/1.1 200 OK");
  CHECK(ex.head().find("Content-Type: text/event-stream") != std::string::npos);
  auto events = parse_sse(ex.body());
  CHECK(event_types(events) ==
        std::vector<std::string>{"response.created", "response.output_item.added",
                                 "response.content_part.added", "response.output_text.delta",
                                 "response.output_text.delta", "response.output_text.delta",
                                 "response.output_text.done", "response.output_item.done",
                                 "response.completed"});
  for (std::size_t i = 0; i < events.size(); ++i)
    CHECK(events[i].data.at("sequence_number").as_int64() == static_cast<std::int64_t>(i));
  CHECK(str(events[0].data.at("response").at("id")) == "resp_mock_1");
  const auto& added = events[1].data.at("item").as_object();
  CHECK(str(added.at("id")) == "msg_mock_1");
  CHECK(str(added.at("phase")) == "commentary");
  CHECK(str(added.at("role")) == "assistant");
  CHECK(str(events[3].data.at("delta")) == "Hello t");
  CHECK(joined_deltas(events, "response.output_text.delta") == "Hello there, friend.");
  CHECK(str(events[6].data.at("text")) == "Hello there, friend.");
  const auto& done = events[7].data.at("item").as_object();
  CHECK(str(done.at("status")) == "completed");
  CHECK(str(done.at("content").at(0).at("text")) == "Hello there, friend.");
  const auto& usage = events[8].data.at("response").at("usage");
  CHECK(usage.at("input_tokens").as_int64() == 100);
  CHECK(usage.at("output_tokens").as_int64() == 7);
  CHECK(usage.at("total_tokens").as_int64() == 107);
  CHECK(usage.at("input_tokens_details").at("cached_tokens").as_int64() == 0);
}

TEST_CASE("an empty queue answers HTTP 500, or the tool-output fallback after a tool call") {
  MockModelServer server;
  {
    Exchange ex(server.port(), user_request("Nothing queued."));
    REQUIRE(ex.read_to_eof());
    CHECK(ex.status_line() == "HTTP/1.1 500 Internal Server Error");
    CHECK(
        ex.body() ==
        R"({"error":{"message":"no queued SSE response","type":"server_error","code":"server_error"}})");
  }
  {
    std::string long_output(200, 'x');
    json::object body{{"input", json::array{json::object{{"type", "function_call"},
                                                         {"call_id", "call_1"},
                                                         {"name", "exec_command"},
                                                         {"arguments", "{}"}},
                                            json::object{{"type", "function_call_output"},
                                                         {"call_id", "call_1"},
                                                         {"output", "ok: " + long_output}}}}};
    Exchange ex(server.port(), post(json::serialize(body)));
    REQUIRE(ex.read_to_eof());
    CHECK(ex.status_line() == "HTTP/1.1 200 OK");
    auto events = parse_sse(ex.body());
    std::string expected = "Tool finished. Output was: 'ok: " + std::string(156, 'x') + "'";
    CHECK(joined_deltas(events, "response.output_text.delta") == expected);
    auto types = event_types(events);
    CHECK(std::count(types.begin(), types.end(), std::string("response.output_text.delta")) == 4);
    // Ids follow the request number (the failed first request used 1).
    CHECK(str(events[1].data.at("item").at("id")) == "msg_mock_2");
    CHECK(str(events[1].data.at("item").at("phase")) == "final_answer");
  }
}

TEST_CASE("HTTP 429 carries Retry-After and a rate-limit body") {
  MockModelServer server;
  server.enqueue(Response::rate_limited());
  server.enqueue(Response::http_error(503, "overloaded"));
  {
    Exchange ex(server.port(), user_request("a"));
    REQUIRE(ex.read_to_eof());
    CHECK(ex.status_line() == "HTTP/1.1 429 Too Many Requests");
    CHECK(ex.head().find("\r\nRetry-After: 1") != std::string::npos);
    auto err = json::parse(ex.body()).at("error");
    CHECK(str(err.at("type")) == "rate_limit_exceeded");
    CHECK(str(err.at("code")) == "rate_limit_exceeded");
  }
  {
    Exchange ex(server.port(), user_request("b"));
    REQUIRE(ex.read_to_eof());
    CHECK(ex.status_line() == "HTTP/1.1 503 Service Unavailable");
    CHECK(str(json::parse(ex.body()).at("error").at("message")) == "overloaded");
  }
}

TEST_CASE("a cut stream closes after K deltas without response.completed") {
  MockModelServer server;
  server.enqueue(Response::message("Hello from the script.", {.deltas = 5}).cut_after(2));
  Exchange ex(server.port(), user_request("cut"));
  REQUIRE(ex.read_to_eof());
  auto events = parse_sse(ex.body());
  auto types = event_types(events);
  CHECK(std::count(types.begin(), types.end(), std::string("response.output_text.delta")) == 2);
  CHECK(types.back() == "response.output_text.delta");
  CHECK(std::find(types.begin(), types.end(), "response.completed") == types.end());
}

TEST_CASE("response.failed follows response.created") {
  MockModelServer server;
  server.enqueue(Response::failed());
  Exchange ex(server.port(), user_request("fail"));
  REQUIRE(ex.read_to_eof());
  auto events = parse_sse(ex.body());
  REQUIRE(event_types(events) == std::vector<std::string>{"response.created", "response.failed"});
  const auto& resp = events[1].data.at("response");
  CHECK(str(resp.at("status")) == "failed");
  CHECK(str(resp.at("error").at("message")) == "mock response.failed");
  CHECK(str(resp.at("error").at("code")) == "server_error");
}

TEST_CASE("a gate holds the stream until released") {
  MockModelServer server;
  server.enqueue(Response::message("one two three", {.deltas = 3}).hold_after_deltas("g1", 1));
  Exchange ex(server.port(), user_request("gated"));
  REQUIRE(ex.read_until("response.output_text.delta"));
  REQUIRE(server.wait_until_held("g1", kTimeout));
  CHECK_FALSE(server.wait_until_held("other", 1ms));
  // Held: the server is parked at the gate, so nothing past the first delta was written.
  CHECK(ex.data().find("response.completed") == std::string::npos);
  CHECK(ex.data().find("three") == std::string::npos);
  server.release("g1");
  REQUIRE(ex.read_to_eof());
  auto events = parse_sse(ex.body());
  CHECK(event_types(events).back() == "response.completed");
  CHECK(joined_deltas(events, "response.output_text.delta") == "one two three");

  SECTION("a released gate stays open for later streams") {
    server.enqueue(Response::message("again").hold_before_headers("g1"));
    Exchange again(server.port(), user_request("again"));
    REQUIRE(again.read_to_eof());
    CHECK(again.status_line() == "HTTP/1.1 200 OK");
  }
}

TEST_CASE("stopping the server ends a held stream") {
  auto server = std::make_unique<MockModelServer>();
  server->enqueue(Response::message("held").hold_before_completed("never"));
  Exchange ex(server->port(), user_request("held"));
  REQUIRE(server->wait_until_held("never", kTimeout));
  server->stop();
  server->stop();  // idempotent
  REQUIRE(ex.read_to_eof());
  CHECK(ex.body().find("response.completed") == std::string::npos);
  server.reset();
}

TEST_CASE("the server stops by itself after its lifetime") {
  MockModelServer server({.lifetime = 300ms});
  server.enqueue(Response::message("held").hold_after_deltas("forever", 0));
  Exchange ex(server.port(), user_request("held"));
  REQUIRE(ex.read_to_eof());
  CHECK(ex.body().find("response.created") != std::string::npos);
  CHECK(ex.body().find("response.completed") == std::string::npos);
}

TEST_CASE("delays are applied before the first byte and between deltas") {
  MockModelServer server;
  server.enqueue(
      Response::message("abc", {.deltas = 3, .delay = 40ms}).with_first_byte_delay(100ms));
  auto start = std::chrono::steady_clock::now();
  Exchange ex(server.port(), user_request("slow"));
  REQUIRE(ex.read_to_eof());
  CHECK(std::chrono::steady_clock::now() - start >= 180ms);
  CHECK(joined_deltas(parse_sse(ex.body()), "response.output_text.delta") == "abc");
}

TEST_CASE("reasoning, function calls, exec_command and apply_patch builders") {
  MockModelServer server;
  server.enqueue(Response::reasoning("Thinking about it.", {.deltas = 3})
                     .then_message("Commentary.", {.phase = "commentary", .deltas = 2}));
  server.enqueue(Response::exec_command("touch x.txt && echo created x.txt")
                     .then_exec_command("echo escalated > e.txt",
                                        {.require_escalated = true, .justification = "why"}));
  server.enqueue(Response::apply_patch_add_file("notes.txt", "patched by the mock"));
  server.enqueue(Response::message("no phase", {.phase = std::nullopt}));

  {
    Exchange ex(server.port(), user_request("think"));
    REQUIRE(ex.read_to_eof());
    auto events = parse_sse(ex.body());
    CHECK(event_types(events) ==
          std::vector<std::string>{
              "response.created", "response.output_item.added",
              "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
              "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
              "response.output_item.done", "response.output_item.added",
              "response.content_part.added", "response.output_text.delta",
              "response.output_text.delta", "response.output_text.done",
              "response.output_item.done", "response.completed"});
    CHECK(str(events[1].data.at("item").at("id")) == "rs_mock_1");
    CHECK(joined_deltas(events, "response.reasoning_summary_text.delta") == "Thinking about it.");
    CHECK(str(events[6].data.at("item").at("summary").at(0).at("text")) == "Thinking about it.");
    CHECK(events[7].data.at("output_index").as_int64() == 1);
    CHECK(str(events[7].data.at("item").at("id")) == "msg_mock_1");
    CHECK(str(events[7].data.at("item").at("phase")) == "commentary");
  }
  {
    Exchange ex(server.port(), user_request("run"));
    REQUIRE(ex.read_to_eof());
    auto events = parse_sse(ex.body());
    REQUIRE(events.size() == 6);
    const auto& first = events[2].data.at("item").as_object();
    CHECK(events[2].event == "response.output_item.done");
    CHECK(str(first.at("type")) == "function_call");
    CHECK(str(first.at("name")) == "exec_command");
    CHECK(str(first.at("call_id")) == "call_mock_2");
    auto args = json::parse(first.at("arguments").as_string());
    CHECK(str(args.at("cmd")) == "touch x.txt && echo created x.txt");
    CHECK(args.at("yield_time_ms").as_int64() == 10000);
    CHECK_FALSE(args.as_object().contains("sandbox_permissions"));
    const auto& second = events[4].data.at("item").as_object();
    CHECK(events[4].data.at("output_index").as_int64() == 1);
    CHECK(str(second.at("call_id")) == "call_mock_2_2");
    auto args2 = json::parse(second.at("arguments").as_string());
    CHECK(str(args2.at("sandbox_permissions")) == "require_escalated");
    CHECK(str(args2.at("justification")) == "why");
  }
  {
    Exchange ex(server.port(), user_request("patch"));
    REQUIRE(ex.read_to_eof());
    auto events = parse_sse(ex.body());
    auto args = json::parse(events[1].data.at("item").at("arguments").as_string());
    CHECK(str(args.at("cmd")) ==
          "apply_patch <<'PATCH'\n*** Begin Patch\n*** Add File: notes.txt\n"
          "+patched by the mock\n*** End Patch\nPATCH");
  }
  {
    Exchange ex(server.port(), user_request("plain"));
    REQUIRE(ex.read_to_eof());
    auto events = parse_sse(ex.body());
    CHECK_FALSE(events[1].data.at("item").as_object().contains("phase"));
  }
  CHECK(Response::function_call("f", {{"a", 1}}, "my_call").items.at(0).arguments == R"({"a":1})");
}

TEST_CASE("requests are recorded, with helpers for what tests assert on") {
  MockModelServer server;
  server.enqueue(Response::message("ok"));
  auto text_part = [](const char* t) { return json::object{{"type", "input_text"}, {"text", t}}; };
  auto message = [](const char* role, json::array parts) {
    return json::object{{"type", "message"}, {"role", role}, {"content", std::move(parts)}};
  };
  json::object image{{"type", "input_image"}, {"image_url", "data:image/png;b64"}};
  json::array input{
      message("developer", {text_part("<permissions>")}),
      message("user", {text_part("Describe it."), image}),
      message("user", {text_part("<skill>\n<name>demo</name>\n</skill>")}),
      json::object{{"type", "function_call"}, {"call_id", "c1"}, {"name", "exec_command"}},
      json::object{{"type", "function_call_output"},
                   {"call_id", "c1"},
                   {"output", json::array{text_part("part1 "), text_part("part2")}}}};
  json::array tools{json::object{{"type", "function"}, {"name", "exec_command"}},
                    json::object{{"type", "web_search"}}};
  json::object body{{"model", "mock-model"},
                    {"prompt_cache_key", "thread-1"},
                    {"tools", std::move(tools)},
                    {"input", std::move(input)}};
  std::string text = json::serialize(body);
  // Chunked transfer encoding, split in two chunks.
  std::string half1 = text.substr(0, text.size() / 2);
  std::string half2 = text.substr(text.size() / 2);
  auto hex = [](std::size_t n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%zx", n);
    return std::string(buf);
  };
  std::string request =
      "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Session-Id: thread-1\r\nX-Custom: a\r\nX-Custom: b\r\nTransfer-Encoding: chunked\r\n\r\n" +
      hex(half1.size()) + "\r\n" + half1 + "\r\n" + hex(half2.size()) + "\r\n" + half2 +
      "\r\n0\r\n\r\n";
  Exchange ex(server.port(), request);
  REQUIRE(ex.read_to_eof());
  REQUIRE(server.wait_for_requests(1, kTimeout));
  CHECK(server.request_count() == 1);
  CHECK_FALSE(server.wait_for_requests(2, 1ms));

  RecordedRequest rec = server.last_request();
  CHECK(rec.method == "POST");
  CHECK(rec.target == "/v1/responses");
  CHECK(rec.session_id() == "thread-1");
  CHECK(rec.header("SESSION-ID") == "thread-1");
  CHECK(rec.header("x-custom") == "a, b");
  CHECK(rec.header("missing").empty());
  CHECK(rec.body == text);
  CHECK(str(rec.json.at("prompt_cache_key")) == "thread-1");
  CHECK(rec.last_user_text() == std::optional<std::string>("Describe it."));
  CHECK(rec.image_urls() == std::vector<std::string>{"data:image/png;b64"});
  auto texts = rec.input_texts();
  CHECK(std::find(texts.begin(), texts.end(), "<skill>\n<name>demo</name>\n</skill>") !=
        texts.end());
  CHECK(rec.input_item_types() == std::vector<std::string>{"message:developer", "message:user",
                                                           "message:user", "function_call",
                                                           "function_call_output"});
  CHECK(rec.function_call_output() == std::optional<std::string>("part1 part2"));
  CHECK(rec.tool_names() == std::vector<std::string>{"exec_command", "web_search"});
  CHECK(server.requests().size() == 1);
}

TEST_CASE("GET /v1/models lists no models; unknown routes are 404") {
  MockModelServer server;
  {
    Exchange ex(server.port(), "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    REQUIRE(ex.read_to_eof());
    CHECK(ex.status_line() == "HTTP/1.1 200 OK");
    CHECK(ex.body() == R"({"models":[]})");
  }
  {
    Exchange ex(server.port(), "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    REQUIRE(ex.read_to_eof());
    CHECK(ex.status_line() == "HTTP/1.1 404 Not Found");
  }
  REQUIRE(server.request_count() == 2);
  CHECK(server.requests()[0].method == "GET");
  CHECK(server.requests()[0].json.is_null());
  CHECK(server.queued() == 0);
}

TEST_CASE("config overrides point codex at the server") {
  MockModelServer server;
  auto port = std::to_string(server.port());
  CHECK(server.base_url() == "http://127.0.0.1:" + port + "/v1");
  CHECK(server.codex_config_overrides() ==
        std::vector<std::string>{
            "model_provider=\"mock\"",
            "model_providers.mock={name=\"mock\", base_url=\"http://127.0.0.1:" + port +
                "/v1\", wire_api=\"responses\", request_max_retries=0, stream_max_retries=0, "
                "stream_idle_timeout_ms=20000, supports_websockets=false}",
            "model=\"mock-model\"", "analytics.enabled=false", "feedback.enabled=false",
            "check_for_update_on_startup=false", "features.plugins=false",
            "allow_login_shell=false"});

  MockModelServer retrying({.request_max_retries = 2, .stream_max_retries = 3});
  auto table = retrying.codex_config_overrides().at(1);
  CHECK(table.find("request_max_retries=2, stream_max_retries=3") != std::string::npos);
}

TEST_CASE("RealCodexEnv prepares an isolated home and workspace") {
  MockModelServer server;
  std::filesystem::path root;
  {
    codex::testing::RealCodexEnv env(server);
    root = env.root();
    CHECK(std::filesystem::is_directory(env.workspace()));
    CHECK(std::filesystem::is_directory(env.codex_home()));
    {
      codex::testing::RealCodexEnv second(server, env.codex_home());
      CHECK(second.codex_home() == env.codex_home());
      CHECK(second.workspace() != env.workspace());
    }
    CHECK(std::filesystem::is_directory(env.codex_home()));  // the sharer left it alone

    const char* override_bin = std::getenv("CODEX_BIN");
    bool have_codex = true;
    try {
      codex::testing::find_pinned_codex();
    } catch (const std::runtime_error& e) {
      have_codex = false;
      CHECK(std::string(e.what()).find("scripts/setup.sh") != std::string::npos);
    }
    if (have_codex) {
      auto cfg = env.config();
      REQUIRE(cfg.codex_bin);
      if (!override_bin)
        CHECK(cfg.codex_bin->find(".codex-cli/node_modules/") != std::string::npos);
      CHECK(cfg.config_overrides == server.codex_config_overrides());
      CHECK(cfg.cwd == env.workspace().string());
      CHECK(cfg.env.at("CODEX_HOME") == env.codex_home().string());
      CHECK(cfg.env.at("RUST_LOG") == "warn");
      CHECK(cfg.env.at("NO_COLOR") == "1");
      CHECK(cfg.env.at("CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG") == "1");
      CHECK(cfg.env_remove ==
            std::vector<std::string>{"OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"});
    }
  }
  CHECK_FALSE(std::filesystem::exists(root));
}
