// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "mock_model_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace codex::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool starts_with_angle(std::string_view text) {
  auto pos = text.find_first_not_of(" \t\r\n");
  return pos != std::string_view::npos && text[pos] == '<';
}

// Number of UTF-8 code points (continuation bytes are not counted).
std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The first `n` code points of `s`.
std::string utf8_prefix(std::string_view s, std::size_t n) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == n) return std::string(s.substr(0, i));
      ++seen;
    }
  }
  return std::string(s);
}

// Splits `text` into at most `parts` pieces of ceil(len / parts) code points each.
std::vector<std::string> split_deltas(std::string_view text, int parts) {
  std::vector<std::string> out;
  std::size_t total = code_points(text);
  if (total == 0) return out;
  std::size_t n = static_cast<std::size_t>(std::max(parts, 1));
  std::size_t per = (total + n - 1) / n;
  std::size_t count = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (count == per) {
      out.emplace_back(text.substr(start, i - start));
      start = i;
      count = 0;
    }
    ++count;
  }
  out.emplace_back(text.substr(start));
  return out;
}

// Text of a `function_call_output.output` (a string, or content parts with `text`).
std::string output_text(const json::value& output) {
  if (const auto* s = output.if_string()) return std::string(*s);
  if (const auto* a = output.if_array()) {
    std::string text;
    for (const auto& part : *a) {
      const auto* o = part.if_object();
      if (!o) continue;
      if (const auto* t = o->if_contains("text"); t && t->is_string()) text += t->as_string();
    }
    return text;
  }
  if (const auto* o = output.if_object()) {
    if (const auto* c = o->if_contains("content")) return output_text(*c);
    if (const auto* t = o->if_contains("text"); t && t->is_string())
      return std::string(t->as_string());
  }
  return json::serialize(output);
}

std::string string_field(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
  return {};
}

bool is_message(const json::object& item) {
  if (const auto* t = item.if_contains("type"); t && t->is_string())
    return t->as_string() == "message";
  return item.contains("role");
}

// Text parts of a message's `content` (a string or an array of parts), in order.
std::vector<std::string> message_texts(const json::object& item) {
  std::vector<std::string> out;
  const auto* content = item.if_contains("content");
  if (!content) return out;
  if (const auto* s = content->if_string()) {
    out.emplace_back(*s);
  } else if (const auto* parts = content->if_array()) {
    for (const auto& part : *parts) {
      const auto* p = part.if_object();
      if (!p) continue;
      std::string type = string_field(*p, "type");
      if ((type == "input_text" || type == "output_text" || type == "text") && p->contains("text"))
        out.push_back(string_field(*p, "text"));
    }
  }
  return out;
}

std::string openai_error_json(std::string_view message, std::string_view type) {
  json::object err{{"message", message}, {"type", type}, {"code", type}};
  return json::serialize(json::object{{"error", std::move(err)}});
}

// Completion handler of the spawned coroutines: reports an escaped exception on stderr.
struct Report {
  const char* what;
  void operator()(const std::exception_ptr& e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "[mock_model_server] %s: %s\n", what, x.what());
    }
  }
};

// A complete HTTP/1.1 response with a JSON body (the connection is closed after it).
std::string json_http_response(int status, std::string_view body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers)
    out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

// ---- the stream plan: what a session writes, when it waits, where it stops ----

struct Step {
  enum class Kind { write, delay, gate, cut };
  Kind kind = Kind::write;
  std::string data;  // bytes to write, or the gate name
  std::chrono::milliseconds delay{0};
};

class PlanBuilder {
 public:
  PlanBuilder(const Response& r, std::uint64_t n) : r_(r), n_(std::to_string(n)) {}

  std::vector<Step> build() {
    if (r_.first_byte_delay.count() > 0) delay(r_.first_byte_delay);
    gates(Gate::At::before_headers, 0);
    if (r_.http_status != 200) {
      write(http_error_response());
      return std::move(plan_);
    }
    write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\n" +
        extra_headers() + "\r\n");
    const std::string resp_id = id("resp");
    event({{"type", "response.created"},
           {"response", {{"id", resp_id}, {"object", "response"}, {"status", "in_progress"}}}});
    if (after_delta_checkpoint()) return std::move(plan_);
    if (r_.failure_message) {
      json::object error{{"code", "server_error"}, {"message", *r_.failure_message}};
      event({{"type", "response.failed"},
             {"response", {{"id", resp_id}, {"status", "failed"}, {"error", std::move(error)}}}});
      return std::move(plan_);
    }
    for (std::size_t i = 0; i < r_.items.size(); ++i) {
      const OutputItem& item = r_.items[i];
      bool stop = false;
      switch (item.kind) {
        case OutputItem::Kind::message:
          stop = message(item, i);
          break;
        case OutputItem::Kind::reasoning:
          stop = reasoning(item, i);
          break;
        case OutputItem::Kind::function_call:
          function_call(item, i);
          break;
      }
      if (stop) return std::move(plan_);
    }
    gates(Gate::At::before_completed, 0);
    const Usage& u = r_.usage;
    json::object usage{{"input_tokens", u.input_tokens},
                       {"input_tokens_details", {{"cached_tokens", u.cached_input_tokens}}},
                       {"output_tokens", u.output_tokens},
                       {"output_tokens_details", {{"reasoning_tokens", u.reasoning_output_tokens}}},
                       {"total_tokens", u.input_tokens + u.output_tokens}};
    event({{"type", "response.completed"},
           {"response", {{"id", resp_id}, {"status", "completed"}, {"usage", std::move(usage)}}}});
    return std::move(plan_);
  }

 private:
  // `<prefix>_mock_N`, then `<prefix>_mock_N_2`, ... within one response.
  std::string id(const std::string& prefix) {
    int k = ++id_counts_[prefix];
    // Appended piece by piece: `"_" + std::to_string(k)` trips GCC 12's -Wrestrict false
    // positive at -O3 (GCC bug 105329), which the release build of the demo printed.
    std::string out = prefix;
    out.append("_mock_").append(n_);
    if (k > 1) out.append("_").append(std::to_string(k));
    return out;
  }

  void write(std::string bytes) { plan_.push_back({Step::Kind::write, std::move(bytes), {}}); }
  void delay(std::chrono::milliseconds d) { plan_.push_back({Step::Kind::delay, {}, d}); }

  void event(json::object data) {
    std::string type(data.at("type").as_string());
    data["sequence_number"] = sequence_++;
    write("event: " + type + "\ndata: " + json::serialize(data) + "\n\n");
  }

  void gates(Gate::At at, int deltas) {
    for (const Gate& g : r_.gates)
      if (g.at == at && (at != Gate::At::after_deltas || g.deltas == deltas))
        plan_.push_back({Step::Kind::gate, g.name, {}});
  }

  // Gates and the cut that apply at the current delta count; true when the stream ends here.
  bool after_delta_checkpoint() {
    gates(Gate::At::after_deltas, deltas_);
    if (r_.cut_after_deltas && *r_.cut_after_deltas == deltas_) {
      plan_.push_back({Step::Kind::cut, {}, {}});
      return true;
    }
    return false;
  }

  // Streams `text` as deltas built by `make`; true when the stream was cut.
  template <class MakeDelta>
  bool deltas(const OutputItem& item, MakeDelta make) {
    auto pieces = split_deltas(item.text, item.deltas);
    for (std::size_t k = 0; k < pieces.size(); ++k) {
      if (k > 0 && item.delay.count() > 0) delay(item.delay);
      event(make(pieces[k]));
      ++deltas_;
      if (after_delta_checkpoint()) return true;
    }
    return false;
  }

  bool message(const OutputItem& item, std::size_t index) {
    const std::string msg_id = id("msg");
    auto item_json = [&](std::string_view status, json::array content) {
      json::object o{{"type", "message"},
                     {"id", msg_id},
                     {"role", "assistant"},
                     {"status", status},
                     {"content", std::move(content)}};
      if (item.phase) o["phase"] = *item.phase;
      return o;
    };
    event({{"type", "response.output_item.added"},
           {"output_index", index},
           {"item", item_json("in_progress", {})}});
    event({{"type", "response.content_part.added"},
           {"item_id", msg_id},
           {"output_index", index},
           {"content_index", 0},
           {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array{}}}}});
    bool cut = deltas(item, [&](const std::string& piece) {
      return json::object{{"type", "response.output_text.delta"},
                          {"item_id", msg_id},
                          {"output_index", index},
                          {"content_index", 0},
                          {"delta", piece}};
    });
    if (cut) return true;
    event({{"type", "response.output_text.done"},
           {"item_id", msg_id},
           {"output_index", index},
           {"content_index", 0},
           {"text", item.text}});
    json::array content{
        json::object{{"type", "output_text"}, {"text", item.text}, {"annotations", json::array{}}}};
    event({{"type", "response.output_item.done"},
           {"output_index", index},
           {"item", item_json("completed", std::move(content))}});
    return false;
  }

  bool reasoning(const OutputItem& item, std::size_t index) {
    const std::string rs_id = id("rs");
    event({{"type", "response.output_item.added"},
           {"output_index", index},
           {"item", {{"type", "reasoning"}, {"id", rs_id}, {"summary", json::array{}}}}});
    event({{"type", "response.reasoning_summary_part.added"},
           {"item_id", rs_id},
           {"output_index", index},
           {"summary_index", 0},
           {"part", {{"type", "summary_text"}, {"text", ""}}}});
    bool cut = deltas(item, [&](const std::string& piece) {
      return json::object{{"type", "response.reasoning_summary_text.delta"},
                          {"item_id", rs_id},
                          {"output_index", index},
                          {"summary_index", 0},
                          {"delta", piece}};
    });
    if (cut) return true;
    json::array summary{json::object{{"type", "summary_text"}, {"text", item.text}}};
    event({{"type", "response.output_item.done"},
           {"output_index", index},
           {"item", {{"type", "reasoning"}, {"id", rs_id}, {"summary", std::move(summary)}}}});
    return false;
  }

  void function_call(const OutputItem& item, std::size_t index) {
    const std::string fc_id = id("fc");
    const std::string call_id = item.call_id ? *item.call_id : id("call");
    json::object fc{{"type", "function_call"},
                    {"id", fc_id},
                    {"call_id", call_id},
                    {"name", item.name},
                    {"arguments", item.arguments}};
    event({{"type", "response.output_item.added"}, {"output_index", index}, {"item", fc}});
    event({{"type", "response.output_item.done"}, {"output_index", index}, {"item", fc}});
  }

  std::string extra_headers() const {
    std::string out;
    for (const auto& [name, value] : r_.extra_headers)
      out += name + ": " + value + "\r\n";
    return out;
  }

  std::string http_error_response() const {
    return json_http_response(r_.http_status, r_.error_body, r_.extra_headers);
  }

  const Response& r_;
  std::string n_;
  std::vector<Step> plan_;
  std::map<std::string, int> id_counts_;
  int sequence_ = 0;
  int deltas_ = 0;
};

}  // namespace

// ---------------------------------------------------------------- Response builders

Response Response::message(std::string text, MessageOptions options) {
  Response r;
  r.then_message(std::move(text), std::move(options));
  return r;
}

Response Response::reasoning(std::string summary, ReasoningOptions options) {
  Response r;
  r.then_reasoning(std::move(summary), options);
  return r;
}

Response Response::function_call(std::string name, json::object arguments,
                                 std::optional<std::string> call_id) {
  Response r;
  r.then_function_call(std::move(name), std::move(arguments), std::move(call_id));
  return r;
}

Response Response::exec_command(std::string cmd, ExecOptions options) {
  Response r;
  r.then_exec_command(std::move(cmd), std::move(options));
  return r;
}

std::string Response::add_file_patch_command(std::string_view path, std::string_view content) {
  std::string cmd = "apply_patch <<'PATCH'\n*** Begin Patch\n*** Add File: ";
  cmd += path;
  cmd += '\n';
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    cmd += '+';
    cmd += content.substr(start, end - start);
    cmd += '\n';
    start = end + 1;
  }
  cmd += "*** End Patch\nPATCH";
  return cmd;
}

Response Response::apply_patch_add_file(std::string path, std::string content,
                                        ExecOptions options) {
  return exec_command(add_file_patch_command(path, content), std::move(options));
}

Response Response::http_error(int status, std::string message, std::string type) {
  Response r;
  r.http_status = status;
  r.error_body = openai_error_json(message, type);
  return r;
}

Response Response::rate_limited(std::string message) {
  Response r = http_error(429, std::move(message), "rate_limit_exceeded");
  r.extra_headers.emplace_back("Retry-After", "1");
  return r;
}

Response Response::failed(std::string message) {
  Response r;
  r.failure_message = std::move(message);
  return r;
}

Response& Response::then_message(std::string text, MessageOptions options) {
  OutputItem item;
  item.kind = OutputItem::Kind::message;
  item.text = std::move(text);
  item.phase = std::move(options.phase);
  item.deltas = options.deltas;
  item.delay = options.delay;
  items.push_back(std::move(item));
  return *this;
}

Response& Response::then_reasoning(std::string summary, ReasoningOptions options) {
  OutputItem item;
  item.kind = OutputItem::Kind::reasoning;
  item.text = std::move(summary);
  item.deltas = options.deltas;
  item.delay = options.delay;
  items.push_back(std::move(item));
  return *this;
}

Response& Response::then_function_call(std::string name, json::object arguments,
                                       std::optional<std::string> call_id) {
  OutputItem item;
  item.kind = OutputItem::Kind::function_call;
  item.name = std::move(name);
  item.arguments = json::serialize(arguments);
  item.call_id = std::move(call_id);
  items.push_back(std::move(item));
  return *this;
}

Response& Response::then_exec_command(std::string cmd, ExecOptions options) {
  json::object args{{"cmd", cmd}, {"yield_time_ms", options.yield_time_ms}};
  if (options.require_escalated) {
    args["sandbox_permissions"] = "require_escalated";
    args["justification"] = options.justification;
  }
  return then_function_call("exec_command", std::move(args), std::move(options.call_id));
}

Response& Response::with_usage(Usage u) {
  usage = u;
  return *this;
}

Response& Response::with_first_byte_delay(std::chrono::milliseconds delay) {
  first_byte_delay = delay;
  return *this;
}

Response& Response::cut_after(int deltas) {
  cut_after_deltas = deltas;
  return *this;
}

Response& Response::hold_after_deltas(std::string gate, int deltas) {
  gates.push_back({std::move(gate), Gate::At::after_deltas, deltas});
  return *this;
}

Response& Response::hold_before_headers(std::string gate) {
  gates.push_back({std::move(gate), Gate::At::before_headers, 0});
  return *this;
}

Response& Response::hold_before_completed(std::string gate) {
  gates.push_back({std::move(gate), Gate::At::before_completed, 0});
  return *this;
}

// ---------------------------------------------------------------- RecordedRequest helpers

std::string RecordedRequest::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

json::array RecordedRequest::input() const {
  if (const auto* o = json.if_object())
    if (const auto* in = o->if_contains("input"); in && in->is_array()) return in->as_array();
  return {};
}

std::optional<std::string> RecordedRequest::last_user_text() const {
  const json::array items = input();
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    const auto* item = it->if_object();
    if (!item || !is_message(*item) || string_field(*item, "role") != "user") continue;
    auto texts = message_texts(*item);
    for (auto t = texts.rbegin(); t != texts.rend(); ++t)
      if (!starts_with_angle(*t)) return *t;
  }
  return std::nullopt;
}

std::vector<std::string> RecordedRequest::input_texts() const {
  std::vector<std::string> out;
  for (const auto& v : input()) {
    const auto* item = v.if_object();
    if (!item || !is_message(*item)) continue;
    auto texts = message_texts(*item);
    out.insert(out.end(), texts.begin(), texts.end());
  }
  return out;
}

std::vector<std::string> RecordedRequest::image_urls() const {
  std::vector<std::string> out;
  for (const auto& v : input()) {
    const auto* item = v.if_object();
    if (!item || !is_message(*item)) continue;
    const auto* content = item->if_contains("content");
    if (!content || !content->is_array()) continue;
    for (const auto& part : content->as_array()) {
      const auto* p = part.if_object();
      if (!p || string_field(*p, "type") != "input_image") continue;
      const auto* url = p->if_contains("image_url");
      if (!url) continue;
      if (url->is_string()) {
        out.emplace_back(url->as_string());
      } else if (const auto* uo = url->if_object()) {  // {"url": ...} form, just in case
        out.push_back(string_field(*uo, "url"));
      }
    }
  }
  return out;
}

std::vector<std::string> RecordedRequest::input_item_types() const {
  std::vector<std::string> out;
  for (const auto& v : input()) {
    const auto* item = v.if_object();
    if (!item) continue;
    if (is_message(*item)) {
      out.push_back("message:" + string_field(*item, "role"));
    } else {
      out.push_back(string_field(*item, "type"));
    }
  }
  return out;
}

std::optional<std::string> RecordedRequest::function_call_output() const {
  const json::array items = input();
  if (items.empty()) return std::nullopt;
  const auto* last = items.back().if_object();
  if (!last || string_field(*last, "type") != "function_call_output") return std::nullopt;
  const auto* output = last->if_contains("output");
  return output ? output_text(*output) : std::string();
}

std::vector<std::string> RecordedRequest::tool_names() const {
  std::vector<std::string> out;
  const auto* o = json.if_object();
  if (!o) return out;
  const auto* tools = o->if_contains("tools");
  if (!tools || !tools->is_array()) return out;
  for (const auto& t : tools->as_array()) {
    const auto* to = t.if_object();
    if (!to) continue;
    std::string name = string_field(*to, "name");
    if (name.empty()) name = string_field(*to, "type");  // e.g. {"type":"web_search"}
    out.push_back(std::move(name));
  }
  return out;
}

// ---------------------------------------------------------------- the server

struct MockModelServer::Impl {
  struct Session {
    explicit Session(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    tcp::socket socket;
    asio::steady_timer timer;  // delays and gate waits; cancelled to wake the session
    std::string waiting_gate;  // the gate the session is held at, if any
    bool peer_gone = false;    // the client closed its side
  };

  explicit Impl(MockModelServerOptions o)
      : options(std::move(o)), acceptor(ioc), lifetime_timer(ioc) {
    tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    port = acceptor.local_endpoint().port();

    asio::co_spawn(ioc, accept_loop(), Report{"accept loop"});
    lifetime_timer.expires_after(options.lifetime);
    lifetime_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        std::fprintf(stderr, "[mock_model_server] lifetime expired, stopping port %u\n",
                     static_cast<unsigned>(port));
        shutdown_now();
      }
    });
    auto done = std::make_shared<std::promise<void>>();
    run_done = done->get_future();
    thread = std::thread([this, done] {
      try {
        ioc.run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "[mock_model_server] io thread: %s\n", e.what());
      }
      done->set_value();
    });
  }

  // ---- io thread only ----

  // Closes the listener and every session; `run()` returns once they have wound down.
  void shutdown_now() {
    if (stopping) return;
    stopping = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    lifetime_timer.cancel();
    for (const auto& s : sessions) {
      s->timer.cancel();
      s->socket.close(ec);
    }
  }

  asio::awaitable<void> accept_loop() {
    while (!stopping) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        if (stopping || !acceptor.is_open()) co_return;
        continue;
      }
      auto s = std::make_shared<Session>(std::move(socket));
      sessions.insert(s);
      asio::co_spawn(ioc, serve(s), Report{"session"});
    }
  }

  // Pauses the session; false when it must stop (server stopping or the peer went away).
  asio::awaitable<bool> pause(Session& s, std::chrono::milliseconds d) {
    s.timer.expires_after(d);
    co_await s.timer.async_wait(kTuple);
    co_return !stopping && !s.peer_gone;
  }

  asio::awaitable<bool> hold(Session& s, const std::string& gate) {
    {
      std::lock_guard lock(mutex);
      held.insert(gate);
    }
    cv.notify_all();
    while (!stopping && !s.peer_gone && !is_released(gate)) {
      // `release()` posts a cancel of this timer; the flag is checked again on every wake-up.
      s.waiting_gate = gate;
      s.timer.expires_at(asio::steady_timer::time_point::max());
      co_await s.timer.async_wait(kTuple);
    }
    s.waiting_gate.clear();
    co_return !stopping && !s.peer_gone;
  }

  bool is_released(const std::string& gate) {
    std::lock_guard lock(mutex);
    return released.count(gate) > 0;
  }

  // Reads (and drops) whatever the client sends after its request, to notice when it hangs up.
  static asio::awaitable<void> watch_peer(std::shared_ptr<Session> s) {
    std::array<char, 1024> scratch;
    for (;;) {
      auto [ec, n] = co_await s->socket.async_read_some(asio::buffer(scratch), kTuple);
      if (ec) {
        s->peer_gone = true;
        s->timer.cancel();
        co_return;
      }
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<Session> s) {
    struct Unregister {
      Impl* self;
      std::shared_ptr<Session> s;
      ~Unregister() { self->sessions.erase(s); }
    } unregister{this, s};

    boost::beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.header_limit(1u << 20);
    parser.body_limit(std::uint64_t{1} << 30);
    auto [ec, bytes] = co_await http::async_read(s->socket, buffer, parser, kTuple);
    (void)bytes;
    if (ec || stopping) co_return;
    http::request<http::string_body> req = parser.release();

    RecordedRequest rec;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name = lower(field.name_string());
      auto [it, inserted] = rec.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    rec.body = std::move(req.body());
    {
      boost::system::error_code jec;
      rec.json = json::parse(rec.body, jec);
      if (jec) rec.json = nullptr;
    }
    std::vector<Step> plan = route(rec);
    {
      std::lock_guard lock(mutex);
      records.push_back(std::move(rec));
    }
    cv.notify_all();

    asio::co_spawn(ioc, watch_peer(s), asio::detached);
    for (const Step& step : plan) {
      if (stopping || s->peer_gone) break;
      bool go_on = true;
      switch (step.kind) {
        case Step::Kind::write: {
          auto [wec, n] = co_await asio::async_write(s->socket, asio::buffer(step.data), kTuple);
          (void)n;
          go_on = !wec;
          break;
        }
        case Step::Kind::delay:
          go_on = co_await pause(*s, step.delay);
          break;
        case Step::Kind::gate:
          go_on = co_await hold(*s, step.data);
          break;
        case Step::Kind::cut:
          go_on = false;
          break;
      }
      if (!go_on) break;
    }
    boost::system::error_code ignored;
    s->socket.shutdown(tcp::socket::shutdown_both, ignored);
    s->socket.close(ignored);
  }

  // What to answer (runs on the io thread, before the request is published to the test).
  std::vector<Step> route(const RecordedRequest& rec) {
    std::string path = rec.target.substr(0, rec.target.find('?'));
    if (rec.method == "POST" && path == "/v1/responses") {
      std::uint64_t n = ++model_requests;
      std::optional<Response> next;
      {
        std::lock_guard lock(mutex);
        if (!queue.empty()) {
          next = std::move(queue.front());
          queue.pop_front();
        }
      }
      if (!next) {
        if (auto out = rec.function_call_output()) {
          next = Response::message("Tool finished. Output was: '" + utf8_prefix(*out, 160) + "'",
                                   {.deltas = 4});
        } else {
          next = Response::http_error(500, "no queued SSE response");
        }
      }
      return PlanBuilder(*next, n).build();
    }
    if (rec.method == "GET" && path == "/v1/models")
      return {{Step::Kind::write, json_http_response(200, R"({"models":[]})", {}), {}}};
    return {
        {Step::Kind::write,
         json_http_response(
             404, openai_error_json("no route for " + rec.method + " " + path, "not_found"), {}),
         {}}};
  }

  // ---- any thread ----

  void stop() {
    std::lock_guard lock(stop_mutex);
    if (!thread.joinable()) return;
    asio::post(ioc, [this] { shutdown_now(); });
    if (run_done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      std::fprintf(stderr, "[mock_model_server] sessions did not wind down; forcing a stop\n");
      ioc.stop();
    }
    thread.join();
  }

  void release(const std::string& gate) {
    {
      std::lock_guard lock(mutex);
      released.insert(gate);
    }
    asio::post(ioc, [this, gate] {
      for (const auto& s : sessions)
        if (s->waiting_gate == gate) s->timer.cancel();
    });
  }

  MockModelServerOptions options;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer lifetime_timer;
  std::uint16_t port = 0;
  std::thread thread;
  std::future<void> run_done;
  std::mutex stop_mutex;

  // io thread only
  bool stopping = false;
  std::set<std::shared_ptr<Session>> sessions;
  std::uint64_t model_requests = 0;

  // shared, under `mutex`
  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  std::deque<Response> queue;
  std::vector<RecordedRequest> records;
  std::set<std::string> released;
  std::set<std::string> held;
};

MockModelServer::MockModelServer(MockModelServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

MockModelServer::~MockModelServer() {
  impl_->stop();
}

void MockModelServer::enqueue(Response response) {
  std::lock_guard lock(impl_->mutex);
  impl_->queue.push_back(std::move(response));
}

std::size_t MockModelServer::queued() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->queue.size();
}

void MockModelServer::release(const std::string& gate) {
  impl_->release(gate);
}

bool MockModelServer::wait_until_held(const std::string& gate,
                                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->held.count(gate) > 0; });
}

std::vector<RecordedRequest> MockModelServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records;
}

std::size_t MockModelServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records.size();
}

RecordedRequest MockModelServer::last_request() const {
  std::lock_guard lock(impl_->mutex);
  if (impl_->records.empty()) throw std::logic_error("MockModelServer: no request received yet");
  return impl_->records.back();
}

bool MockModelServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->records.size() >= n; });
}

std::uint16_t MockModelServer::port() const {
  return impl_->port;
}

std::string MockModelServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + "/v1";
}

std::vector<std::string> MockModelServer::codex_config_overrides() const {
  const auto& o = impl_->options;
  const std::string& p = o.provider;
  std::string table =
      "{name=\"" + p + "\", base_url=\"" + base_url() +
      "\", wire_api=\"responses\", request_max_retries=" + std::to_string(o.request_max_retries) +
      ", stream_max_retries=" + std::to_string(o.stream_max_retries) +
      ", stream_idle_timeout_ms=" + std::to_string(o.stream_idle_timeout.count()) +
      ", supports_websockets=false}";
  // snippet-begin: testing_mock_overrides
  return {
      "model_provider=\"" + p + "\"", "model_providers." + p + "=" + table,
      "model=\"mock-model\"",         "analytics.enabled=false",
      "feedback.enabled=false",       "check_for_update_on_startup=false",
      "features.plugins=false",       "allow_login_shell=false",
  };
  // snippet-end: testing_mock_overrides
}

void MockModelServer::stop() {
  impl_->stop();
}

}  // namespace codex::testing
