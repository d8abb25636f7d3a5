// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Unit tests without I/O: LineFramer, the JSON-RPC error mapping, retry, result parsing,
// secret redaction and the fail-closed server-request replies.

#include <catch2/catch.hpp>

#include "framer.hpp"
#include "log.hpp"

#include <codex/approvals.hpp>
#include <codex/errors.hpp>
#include <codex/results.hpp>
#include <codex/retry.hpp>
#include <codex/turn.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace json = boost::json;
using namespace std::chrono_literals;
using codex::detail::LineFramer;

namespace {

// ---------------------------------------------------------------- helpers

/// Records what the framer hands out, in order ("M:<message>" / "O:<bytes>").
struct RecordingSink final : codex::MessageSink {
  std::vector<std::string> messages;
  std::vector<std::size_t> oversize;
  std::vector<std::string> order;
  void on_message(std::string_view m) override {
    messages.emplace_back(m);
    order.push_back("M:" + std::string(m));
  }
  void on_oversize(std::size_t bytes) override {
    oversize.push_back(bytes);
    order.push_back("O:" + std::to_string(bytes));
  }
};

/// Feeds `data` through prepare()/commit() the way a transport does, in chunks of `chunk` bytes.
void feed_by_reads(LineFramer& f, std::string_view data, std::size_t chunk, codex::MessageSink& s) {
  while (!data.empty()) {
    std::size_t avail = 0;
    char* p = f.prepare(chunk, avail);
    REQUIRE(avail >= chunk);
    std::size_t n = std::min({chunk, avail, data.size()});
    std::memcpy(p, data.data(), n);
    f.commit(n, s);
    data.remove_prefix(n);
  }
}

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

/// The dynamic type of the exception `p` holds, as a (mangled) type name.
std::string error_type(const std::exception_ptr& p) {
  REQUIRE(p);
  try {
    std::rethrow_exception(p);
  } catch (const std::exception& e) {
    return typeid(e).name();
  }
  return "not a std::exception";
}

template <class E>
std::string type_name() {
  return typeid(E).name();
}

template <class E>
const E& as_error(const std::exception_ptr& p, E& storage) {
  try {
    std::rethrow_exception(p);
  } catch (const E& e) {
    storage = e;
  }
  return storage;
}

}  // namespace

// ================================================================ LineFramer

TEST_CASE("LineFramer delivers exactly the messages whatever the split", "[framer]") {
  const std::string big(3000, 'b');  // longer than the framer's initial 1 KiB buffer
  const std::vector<std::string> expected = {R"({"id":1,"result":{}})",
                                             "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E", big, "x",
                                             R"({"method":"turn/started"})"};
  std::string stream;
  for (auto& m : expected)
    stream += m + "\n";

  SECTION("split in two at every byte offset") {
    for (std::size_t k = 0; k <= stream.size(); ++k) {
      LineFramer f(1 << 20, 16);
      RecordingSink s;
      f.feed(std::string_view(stream).substr(0, k), s);
      f.feed(std::string_view(stream).substr(k), s);
      INFO("split at " << k);
      REQUIRE(s.messages == expected);
      REQUIRE(s.oversize.empty());
      REQUIRE(f.pending() == 0);
    }
  }
  SECTION("one byte at a time") {
    LineFramer f(1 << 20, 16);
    RecordingSink s;
    for (char c : stream)
      f.feed(std::string_view(&c, 1), s);
    REQUIRE(s.messages == expected);
    REQUIRE(f.pending() == 0);
  }
  SECTION("one byte per read through prepare/commit") {
    LineFramer f(1 << 20, 16);
    RecordingSink s;
    feed_by_reads(f, stream, 1, s);
    REQUIRE(s.messages == expected);
  }
  SECTION("random chunk sizes (fixed seed)") {
    std::mt19937 rng(20240917);
    for (int round = 0; round < 200; ++round) {
      LineFramer f(1 << 20, 16);
      RecordingSink s;
      std::string_view rest = stream;
      std::uniform_int_distribution<std::size_t> len(1, 700);
      while (!rest.empty()) {
        std::size_t n = std::min(len(rng), rest.size());
        if (round % 2)
          f.feed(rest.substr(0, n), s);
        else
          feed_by_reads(f, rest.substr(0, n), n, s);
        rest.remove_prefix(n);
      }
      INFO("round " << round);
      REQUIRE(s.messages == expected);
    }
  }
}

TEST_CASE("LineFramer strips CR before LF, keeps interior CR, holds partial lines", "[framer]") {
  LineFramer f(1024);
  RecordingSink s;
  f.feed("a\r\nb\r\n", s);
  REQUIRE(s.messages == std::vector<std::string>{"a", "b"});
  f.feed("c\r", s);  // CRLF split across two reads
  REQUIRE(s.messages.size() == 2);
  REQUIRE(f.pending() == 2);
  f.feed("\nd\re\n", s);
  REQUIRE(s.messages == std::vector<std::string>{"a", "b", "c", "d\re"});
  f.feed("\r\n", s);  // a CRLF-only line is empty: skipped
  REQUIRE(s.messages.size() == 4);
  f.feed("tail-without-newline", s);
  REQUIRE(s.messages.size() == 4);
  REQUIRE(f.pending() == std::strlen("tail-without-newline"));
}

TEST_CASE("LineFramer skips empty lines", "[framer]") {
  LineFramer f(1024);
  RecordingSink s;
  f.feed("\n\n\nx\n\n\ny\n\n", s);
  REQUIRE(s.messages == std::vector<std::string>{"x", "y"});
  REQUIRE(s.oversize.empty());
}

TEST_CASE("LineFramer delivers a 17 MiB UTF-8 line byte for byte", "[framer]") {
  const std::string unit = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x82\xAC \xF0\x9D\x84\x9E \xE4\xB8\xAD ";
  std::string line;
  line.reserve(17u * 1024 * 1024 + unit.size());
  line += R"({"text":")";
  while (line.size() < 17u * 1024 * 1024)
    line += unit;
  line += R"("})";
  REQUIRE(line.size() > 17u * 1024 * 1024);
  const std::string data = line + "\n" + "{\"after\":1}\n";

  SECTION("64 KiB reads") {
    LineFramer f(64u * 1024 * 1024);
    RecordingSink s;
    feed_by_reads(f, data, 64 * 1024, s);
    REQUIRE(s.messages.size() == 2);
    REQUIRE(s.messages[0].size() == line.size());
    REQUIRE(s.messages[0] == line);
    REQUIRE(s.messages[1] == "{\"after\":1}");
    REQUIRE(s.oversize.empty());
  }
  SECTION("odd-sized reads") {
    LineFramer f(64u * 1024 * 1024);
    RecordingSink s;
    feed_by_reads(f, data, 65537, s);
    REQUIRE(s.messages.size() == 2);
    REQUIRE(s.messages[0] == line);
    REQUIRE(s.messages[1] == "{\"after\":1}");
  }
}

TEST_CASE("LineFramer reports an oversize line and goes on", "[framer]") {
  constexpr std::size_t max = 100;
  const std::string at_limit(max, 'a');
  const std::string over(150, 'x');

  SECTION("whole line in one read") {
    LineFramer f(max);
    RecordingSink s;
    f.feed("short\n" + over + "\nafter\n", s);
    REQUIRE(s.order == std::vector<std::string>{"M:short", "O:150", "M:after"});
  }
  SECTION("a line of exactly max_line bytes is delivered") {
    LineFramer f(max);
    RecordingSink s;
    f.feed(at_limit + "\n" + std::string(max + 1, 'b') + "\nz\n", s);
    REQUIRE(s.order == std::vector<std::string>{"M:" + at_limit, "O:101", "M:z"});
  }
  SECTION("oversize line split across many reads") {
    const std::string huge(10'000, 'y');
    const std::string data = "first\n" + huge + "\nafter\n";
    for (std::size_t chunk : {1u, 7u, 64u, 99u, 100u, 101u, 4096u}) {
      LineFramer f(max);
      RecordingSink s;
      std::string_view rest = data;
      while (!rest.empty()) {
        std::size_t n = std::min(chunk, rest.size());
        f.feed(rest.substr(0, n), s);
        rest.remove_prefix(n);
        // A skipped line is not buffered.
        REQUIRE(f.pending() <= max + chunk);
      }
      INFO("chunk " << chunk);
      REQUIRE(s.order == std::vector<std::string>{"M:first", "O:10000", "M:after"});
    }
  }
  SECTION("two oversize lines back to back, random chunks") {
    const std::string data = std::string(300, 'p') + "\n" + std::string(250, 'q') + "\nok\n";
    std::mt19937 rng(7);
    for (int round = 0; round < 100; ++round) {
      LineFramer f(max);
      RecordingSink s;
      std::string_view rest = data;
      std::uniform_int_distribution<std::size_t> len(1, 180);
      while (!rest.empty()) {
        std::size_t n = std::min(len(rng), rest.size());
        feed_by_reads(f, rest.substr(0, n), n, s);
        rest.remove_prefix(n);
      }
      INFO("round " << round);
      REQUIRE(s.order == std::vector<std::string>{"O:300", "O:250", "M:ok"});
    }
  }
}

// ================================================================ errors

TEST_CASE("make_jsonrpc_error maps the standard codes", "[errors]") {
  using codex::make_jsonrpc_error;
  CHECK(error_type(make_jsonrpc_error(-32700, "m")) == type_name<codex::ParseError>());
  CHECK(error_type(make_jsonrpc_error(-32600, "m")) == type_name<codex::InvalidRequestError>());
  CHECK(error_type(make_jsonrpc_error(-32601, "m")) == type_name<codex::MethodNotFoundError>());
  CHECK(error_type(make_jsonrpc_error(-32602, "m")) == type_name<codex::InvalidParamsError>());
  CHECK(error_type(make_jsonrpc_error(-32603, "m")) == type_name<codex::InternalRpcError>());
  // The standard classes are CodexRpcErrors.
  REQUIRE_THROWS_AS(std::rethrow_exception(make_jsonrpc_error(-32602, "m")), codex::CodexRpcError);
}

TEST_CASE("make_jsonrpc_error maps overload and retry-limit errors", "[errors]") {
  using codex::make_jsonrpc_error;
  // The real 0.169.0 server: -32001 with no data.
  CHECK(error_type(make_jsonrpc_error(-32001, "Server overloaded; retry later.")) ==
        type_name<codex::ServerBusyError>());
  CHECK(error_type(make_jsonrpc_error(-32001, "busy", json::parse(R"({"x":1})"))) ==
        type_name<codex::ServerBusyError>());
  CHECK(error_type(make_jsonrpc_error(-32000, "m",
                                      json::parse(R"({"codexErrorInfo":"serverOverloaded"})"))) ==
        type_name<codex::ServerBusyError>());
  CHECK(error_type(make_jsonrpc_error(
            -32000, "m", json::parse(R"({"codex_error_info":"server_overloaded"})"))) ==
        type_name<codex::ServerBusyError>());
  CHECK(error_type(make_jsonrpc_error(
            -32042, "m", json::parse(R"({"codexErrorInfo":{"serverOverloaded":{}}})"))) ==
        type_name<codex::ServerBusyError>());
  CHECK(error_type(make_jsonrpc_error(
            -32000, "m", json::parse(R"({"details":[{"errorInfo":"SERVER_OVERLOADED"}]})"))) ==
        type_name<codex::ServerBusyError>());
  // Retry limit: the message decides, with or without overload data.
  CHECK(error_type(make_jsonrpc_error(-32001, "Retry limit reached")) ==
        type_name<codex::RetryLimitExceededError>());
  CHECK(error_type(make_jsonrpc_error(-32000, "Too Many Failed Attempts")) ==
        type_name<codex::RetryLimitExceededError>());
  CHECK(error_type(make_jsonrpc_error(-32000, "retry limit",
                                      json::parse(R"({"codexErrorInfo":"serverOverloaded"})"))) ==
        type_name<codex::RetryLimitExceededError>());
  REQUIRE_THROWS_AS(std::rethrow_exception(make_jsonrpc_error(-32001, "retry limit")),
                    codex::ServerBusyError);
  // Not overloaded data.
  CHECK(error_type(
            make_jsonrpc_error(-32000, "m", json::parse(R"({"codexErrorInfo":"unauthorized"})"))) ==
        type_name<codex::CodexRpcError>());
}

TEST_CASE("make_jsonrpc_error: other server codes and foreign codes", "[errors]") {
  using codex::make_jsonrpc_error;
  CHECK(error_type(make_jsonrpc_error(-32000, "m")) == type_name<codex::CodexRpcError>());
  CHECK(error_type(make_jsonrpc_error(-32050, "m")) == type_name<codex::CodexRpcError>());
  CHECK(error_type(make_jsonrpc_error(-32099, "m")) == type_name<codex::CodexRpcError>());
  CHECK(error_type(make_jsonrpc_error(-32100, "m")) == type_name<codex::JsonRpcError>());
  CHECK(error_type(make_jsonrpc_error(-31999, "m")) == type_name<codex::JsonRpcError>());
  CHECK(error_type(make_jsonrpc_error(1, "m")) == type_name<codex::JsonRpcError>());
  CHECK(error_type(make_jsonrpc_error(0, "m")) == type_name<codex::JsonRpcError>());
  // A retry-limit message outside the server range is just a JsonRpcError.
  CHECK(error_type(make_jsonrpc_error(42, "retry limit")) == type_name<codex::JsonRpcError>());
}

TEST_CASE("JsonRpcError carries code, message, data and method in what()", "[errors]") {
  auto p = codex::make_jsonrpc_error(-32602, "bad params", json::parse(R"({"field":"x"})"),
                                     "thread/start");
  codex::JsonRpcError e(0, "");
  as_error(p, e);
  CHECK(e.code() == -32602);
  CHECK(e.rpc_message() == "bad params");
  CHECK(e.method() == "thread/start");
  CHECK(e.data() == json::parse(R"({"field":"x"})"));
  CHECK(std::string(e.what()) == "thread/start: JSON-RPC error -32602: bad params");

  codex::JsonRpcError bare(-32600, "nope");
  CHECK(std::string(bare.what()) == "JSON-RPC error -32600: nope");
  CHECK(bare.data().is_null());
}

TEST_CASE("is_retryable_error", "[errors]") {
  using codex::is_retryable_error;
  using codex::make_jsonrpc_error;
  CHECK(is_retryable_error(make_jsonrpc_error(-32001, "busy")));
  CHECK_FALSE(is_retryable_error(make_jsonrpc_error(-32001, "retry limit exceeded")));
  CHECK_FALSE(is_retryable_error(make_jsonrpc_error(-32000, "too many failed attempts")));
  CHECK_FALSE(is_retryable_error(make_jsonrpc_error(-32000, "m")));
  CHECK_FALSE(is_retryable_error(make_jsonrpc_error(-32602, "m")));
  // Any JsonRpcError whose data says overloaded.
  CHECK(is_retryable_error(
      make_jsonrpc_error(7, "m", json::parse(R"({"codexErrorInfo":"serverOverloaded"})"))));
  CHECK(is_retryable_error(
      make_jsonrpc_error(-32603, "m", json::parse(R"(["x",{"errorInfo":"server_overloaded"}])"))));
  CHECK_FALSE(is_retryable_error(codex::TransportClosedError("gone")));
  CHECK_FALSE(is_retryable_error(codex::TimeoutError("x", 5ms)));
  CHECK_FALSE(is_retryable_error(std::runtime_error("x")));
  CHECK_FALSE(is_retryable_error(std::exception_ptr{}));
  CHECK_FALSE(is_retryable_error(std::make_exception_ptr(42)));

  // A failed turn is retryable only when the server reports overload.
  codex::TurnResult busy;
  busy.id = "t";
  busy.status = codex::TurnStatus::failed;
  busy.error =
      codex::parse_turn_error(obj(R"({"message":"m","codexErrorInfo":"serverOverloaded"})"));
  CHECK(is_retryable_error(codex::TurnFailedError(busy)));
  codex::TurnResult quota = busy;
  quota.error =
      codex::parse_turn_error(obj(R"({"message":"m","codexErrorInfo":"usageLimitExceeded"})"));
  CHECK_FALSE(is_retryable_error(codex::TurnFailedError(quota)));
}

TEST_CASE("TimeoutError and TransportClosedError keep their details", "[errors]") {
  codex::TimeoutError t("thread/start", 1500ms);
  CHECK(t.method() == "thread/start");
  CHECK(t.timeout() == 1500ms);
  CHECK(std::string(t.what()).find("thread/start") != std::string::npos);
  codex::TransportClosedError c("closed", 3, "tail");
  CHECK(c.exit_status() == 3);
  CHECK(c.stderr_tail() == "tail");
}

// ================================================================ retry

TEST_CASE("retry_delay without jitter doubles up to max_delay", "[retry]") {
  codex::RetryOptions o;
  o.jitter_ratio = 0;
  using codex::detail::retry_delay;
  CHECK(retry_delay(1, o) == 250ms);
  CHECK(retry_delay(2, o) == 500ms);
  CHECK(retry_delay(3, o) == 1000ms);
  CHECK(retry_delay(4, o) == 2000ms);
  CHECK(retry_delay(5, o) == 2000ms);
  CHECK(retry_delay(64, o) == 2000ms);
  CHECK(retry_delay(5000, o) == 2000ms);  // no overflow
}

TEST_CASE("retry_delay with jitter stays within bounds", "[retry]") {
  using codex::detail::retry_delay;
  SECTION("defaults: +-20% around the doubled base, never above max_delay") {
    codex::RetryOptions o;
    for (int attempt = 1; attempt <= 6; ++attempt) {
      const double base = std::min(250.0 * (1 << (attempt - 1)), 2000.0);
      for (int i = 0; i < 500; ++i) {
        auto d = retry_delay(attempt, o).count();
        INFO("attempt " << attempt << " delay " << d);
        REQUIRE(d >= static_cast<long>(base * 0.8) - 1);
        REQUIRE(d <= static_cast<long>(base * 1.2));
        REQUIRE(d <= 2000);
      }
    }
  }
  SECTION("full jitter never goes below 0 or above max_delay") {
    codex::RetryOptions o{
        .max_attempts = 5, .initial_delay = 100ms, .max_delay = 150ms, .jitter_ratio = 1.0};
    long lo = 1'000'000, hi = -1;
    for (int attempt = 1; attempt <= 4; ++attempt)
      for (int i = 0; i < 2000; ++i) {
        auto d = retry_delay(attempt, o).count();
        REQUIRE(d >= 0);
        REQUIRE(d <= 150);
        lo = std::min(lo, d);
        hi = std::max(hi, d);
      }
    CHECK(lo < 50);  // the jitter is really applied
    CHECK(hi > 100);
  }
  SECTION("zero delays give zero") {
    codex::RetryOptions o{.max_attempts = 3, .initial_delay = 0ms, .max_delay = 0ms};
    for (int attempt = 1; attempt <= 3; ++attempt)
      CHECK(retry_delay(attempt, o) == 0ms);
  }
}

TEST_CASE("check_retry_options rejects bad options", "[retry]") {
  using codex::RetryOptions;
  using codex::detail::check_retry_options;
  REQUIRE_NOTHROW(check_retry_options(RetryOptions{}));
  REQUIRE_THROWS_AS(check_retry_options(RetryOptions{.max_attempts = 0}), std::invalid_argument);
  REQUIRE_THROWS_AS(check_retry_options(RetryOptions{.max_attempts = -2}), std::invalid_argument);
  REQUIRE_THROWS_AS(check_retry_options(RetryOptions{.initial_delay = -1ms}),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(check_retry_options(RetryOptions{.max_delay = -1ms}), std::invalid_argument);
  REQUIRE_THROWS_AS(check_retry_options(RetryOptions{.jitter_ratio = -0.1}), std::invalid_argument);
  REQUIRE_THROWS_AS(check_retry_options(RetryOptions{.jitter_ratio = 1.5}), std::invalid_argument);
}

TEST_CASE("retry_on_overload retries only retryable errors", "[retry]") {
  // snippet-begin: errors_retry_fast
  const codex::RetryOptions fast{.max_attempts = 3, .initial_delay = 0ms, .max_delay = 0ms};
  // snippet-end: errors_retry_fast
  int calls = 0;

  SECTION("success passes through") {
    CHECK(codex::retry_on_overload([&] { return ++calls * 10; }, fast) == 10);
    CHECK(calls == 1);
  }
  SECTION("busy, busy, success") {
    // snippet-begin: errors_retry_busy
    auto r = codex::retry_on_overload(
        [&]() -> std::string {
          if (++calls < 3) throw codex::ServerBusyError(-32001, "busy");
          return "ok";
        },
        fast);
    // snippet-end: errors_retry_busy
    CHECK(r == "ok");
    CHECK(calls == 3);
  }
  SECTION("gives up after max_attempts and rethrows the last error") {
    try {
      codex::retry_on_overload(
          [&]() -> int {
            ++calls;
            throw codex::ServerBusyError(-32001, "busy " + std::to_string(calls));
          },
          fast);
      FAIL("no exception");
    } catch (const codex::ServerBusyError& e) {
      CHECK(e.rpc_message() == "busy 3");
    }
    CHECK(calls == 3);
  }
  SECTION("overload data on a plain JsonRpcError is retried") {
    CHECK_THROWS_AS(
        codex::retry_on_overload(
            [&] {
              ++calls;
              std::rethrow_exception(codex::make_jsonrpc_error(
                  5, "m", json::parse(R"({"codexErrorInfo":"serverOverloaded"})")));
            },
            codex::RetryOptions{.max_attempts = 4, .initial_delay = 0ms, .max_delay = 0ms}),
        codex::JsonRpcError);
    CHECK(calls == 4);
  }
  SECTION("non-retryable errors are not retried") {
    CHECK_THROWS_AS(codex::retry_on_overload(
                        [&] {
                          ++calls;
                          throw codex::InvalidParamsError(-32602, "bad");
                        },
                        fast),
                    codex::InvalidParamsError);
    CHECK(calls == 1);
  }
  SECTION("RetryLimitExceededError is not retried") {
    CHECK_THROWS_AS(codex::retry_on_overload(
                        [&] {
                          ++calls;
                          std::rethrow_exception(codex::make_jsonrpc_error(-32001, "retry limit"));
                        },
                        fast),
                    codex::RetryLimitExceededError);
    CHECK(calls == 1);
  }
  SECTION("a non-std exception propagates at once") {
    CHECK_THROWS_AS(codex::retry_on_overload(
                        [&] {
                          ++calls;
                          throw 42;
                        },
                        fast),
                    int);
    CHECK(calls == 1);
  }
  SECTION("bad options throw before the first call") {
    CHECK_THROWS_AS(
        codex::retry_on_overload([&] { return ++calls; }, codex::RetryOptions{.max_attempts = 0}),
        std::invalid_argument);
    CHECK(calls == 0);
  }
}

// ================================================================ results

TEST_CASE("final_response_from_items", "[results]") {
  auto items = [](std::string_view text) {
    std::vector<json::object> v;
    const json::value parsed = json::parse(text);
    for (auto& e : parsed.as_array())
      v.push_back(e.as_object());
    return v;
  };
  using codex::final_response_from_items;
  SECTION("latest final_answer wins over later phase-less messages") {
    auto r = final_response_from_items(items(R"([
      {"type":"agentMessage","text":"early final","phase":"final_answer"},
      {"type":"agentMessage","text":"late final","phase":"final_answer"},
      {"type":"agentMessage","text":"phase-less"},
      {"type":"agentMessage","text":"comment","phase":"commentary"}])"));
    CHECK(r == std::optional<std::string>("late final"));
  }
  SECTION("else the latest phase-less one; commentary skipped") {
    auto r = final_response_from_items(items(R"([
      {"type":"agentMessage","text":"one"},
      {"type":"agentMessage","text":"two","phase":null},
      {"type":"agentMessage","text":"c","phase":"commentary"},
      {"type":"userMessage","text":"not an answer"},
      {"type":"reasoning","text":"no"}])"));
    CHECK(r == std::optional<std::string>("two"));
  }
  SECTION("an empty string is an answer") {
    CHECK(final_response_from_items(items(R"([
      {"type":"agentMessage","text":"x"},
      {"type":"agentMessage","text":"","phase":"final_answer"}])")) ==
          std::optional<std::string>(""));
    CHECK(final_response_from_items(items(R"([{"type":"agentMessage","text":""}])")) ==
          std::optional<std::string>(""));
  }
  SECTION("none") {
    CHECK_FALSE(final_response_from_items({}).has_value());
    CHECK_FALSE(final_response_from_items(items(R"([
      {"type":"agentMessage","text":"c","phase":"commentary"},
      {"type":"commandExecution","command":"ls"}])"))
                    .has_value());
  }
}

TEST_CASE("parse_initialize_response", "[results]") {
  using codex::parse_initialize_response;
  SECTION("real 0.169.0 userAgent") {
    auto r = parse_initialize_response(obj(R"J({
      "userAgent":"my_client/0.169.0 (Debian 12.0.0; x86_64) xterm (my_client; 0.1.0)",
      "codexHome":"/root/.codex","platformFamily":"unix","platformOs":"linux"})J"));
    CHECK(r.server_version == "0.169.0");
    CHECK(r.server_name == "codex");
    CHECK(r.user_agent == "my_client/0.169.0 (Debian 12.0.0; x86_64) xterm (my_client; 0.1.0)");
    CHECK(r.codex_home == std::optional<std::string>("/root/.codex"));
    CHECK(r.platform_family == std::optional<std::string>("unix"));
    CHECK(r.platform_os == std::optional<std::string>("linux"));
    CHECK(r.raw.contains("codexHome"));
  }
  SECTION("the user agent is trimmed") {
    auto r = parse_initialize_response(obj(R"({"userAgent":"  codex-cli/1.2.3 \n"})"));
    CHECK(r.user_agent == "codex-cli/1.2.3");
    CHECK(r.server_version == "1.2.3");
    CHECK_FALSE(r.codex_home.has_value());
  }
  SECTION("serverInfo wins when present") {
    auto r = parse_initialize_response(obj(R"({"userAgent":"x/9.9.9",
      "serverInfo":{"name":"codex-app-server","version":"0.170.0"}})"));
    CHECK(r.server_name == "codex-app-server");
    CHECK(r.server_version == "0.170.0");
    auto partial = parse_initialize_response(obj(R"J({"userAgent":"x/9.9.9 (linux)",
      "serverInfo":{"name":"srv"}})J"));
    CHECK(partial.server_name == "srv");
    CHECK(partial.server_version == "9.9.9");
  }
  SECTION("a user agent without a slash splits on whitespace") {
    auto r = parse_initialize_response(obj(R"({"userAgent":"codex 1.2.3"})"));
    CHECK(r.server_name == "codex");
    CHECK(r.server_version == "1.2.3");
  }
  SECTION("missing metadata is a ProtocolError") {
    CHECK_THROWS_AS(parse_initialize_response(obj(R"({})")), codex::ProtocolError);
    CHECK_THROWS_AS(parse_initialize_response(obj(R"({"userAgent":"   "})")), codex::ProtocolError);
    CHECK_THROWS_AS(parse_initialize_response(obj(R"({"userAgent":42})")), codex::ProtocolError);
    CHECK_THROWS_AS(parse_initialize_response(obj(R"({"userAgent":"codex"})")),
                    codex::ProtocolError);
  }
}

// python-sdk-behavior.md 3.4 requires a userAgent even when serverInfo names the server (gap 14);
// codex-cpp needs only a name and a version, from serverInfo or from the userAgent.
TEST_CASE("parse_initialize_response: serverInfo alone is enough, nothing at all is an error",
          "[results]") {
  using codex::parse_initialize_response;
  auto r = parse_initialize_response(obj(R"({"serverInfo":{"name":"codex","version":"1.0"}})"));
  CHECK(r.server_name == "codex");
  CHECK(r.server_version == "1.0");
  CHECK(r.user_agent.empty());
  CHECK_THROWS_AS(
      parse_initialize_response(obj(R"({"userAgent":"","serverInfo":{"name":"codex"}})")),
      codex::ProtocolError);
  CHECK_THROWS_AS(parse_initialize_response(obj(R"({})")), codex::ProtocolError);
}

TEST_CASE("parse_turn_error", "[results]") {
  SECTION("string codexErrorInfo") {
    auto e = codex::parse_turn_error(obj(R"({"message":"Quota exceeded.",
      "codexErrorInfo":"usageLimitExceeded","additionalDetails":"plan","extra":1})"));
    CHECK(e.message == "Quota exceeded.");
    CHECK(e.kind() == "usageLimitExceeded");
    CHECK_FALSE(e.http_status_code().has_value());
    CHECK(e.additional_details == std::optional<std::string>("plan"));
    CHECK(e.raw.contains("extra"));
    CHECK_FALSE(e.is_server_overloaded());
  }
  SECTION("object codexErrorInfo") {
    auto e = codex::parse_turn_error(obj(R"({"message":"m",
      "codexErrorInfo":{"responseTooManyFailedAttempts":{"httpStatusCode":429}}})"));
    CHECK(e.kind() == "responseTooManyFailedAttempts");
    CHECK(e.http_status_code() == std::optional<std::int64_t>(429));
    CHECK_FALSE(e.additional_details.has_value());
  }
  SECTION("null or missing codexErrorInfo") {
    auto e = codex::parse_turn_error(obj(R"({"message":"m","codexErrorInfo":null})"));
    CHECK(e.kind().empty());
    CHECK_FALSE(e.http_status_code().has_value());
    auto f = codex::parse_turn_error(obj(R"({})"));
    CHECK(f.message.empty());
    CHECK(f.kind().empty());
  }
  SECTION("overload") {
    auto e = codex::parse_turn_error(obj(R"({"message":"m","codexErrorInfo":"serverOverloaded"})"));
    CHECK(e.is_server_overloaded());
  }
}

TEST_CASE("parse_token_usage", "[results]") {
  auto u = codex::parse_token_usage(obj(R"({
    "total":{"totalTokens":120,"inputTokens":100,"cachedInputTokens":40,
             "cacheWriteInputTokens":3,"outputTokens":20,"reasoningOutputTokens":5},
    "last":{"totalTokens":12,"inputTokens":10,"outputTokens":2},
    "modelContextWindow":272000})"));
  CHECK(u.total.total_tokens == 120);
  CHECK(u.total.input_tokens == 100);
  CHECK(u.total.cached_input_tokens == 40);
  CHECK(u.total.cache_write_input_tokens == 3);
  CHECK(u.total.output_tokens == 20);
  CHECK(u.total.reasoning_output_tokens == 5);
  CHECK(u.last.total_tokens == 12);
  CHECK(u.last.input_tokens == 10);
  CHECK(u.last.cached_input_tokens == 0);
  CHECK(u.last.output_tokens == 2);
  CHECK(u.model_context_window == std::optional<std::int64_t>(272000));

  auto empty = codex::parse_token_usage(obj("{}"));
  CHECK(empty.total.total_tokens == 0);
  CHECK(empty.last.output_tokens == 0);
  CHECK_FALSE(empty.model_context_window.has_value());
}

// ================================================================ redaction

TEST_CASE("redact_secrets replaces secret values and keeps flags", "[log]") {
  json::value v = json::parse(R"({
    "method":"account/login/start",
    "params":{"type":"apiKey","apiKey":"sk-secret-1"},
    "result":{"accessToken":"at-2","token":"tok-3","refreshToken":true,"name":"keep",
              "list":[{"api_key":"k-4"},[{"idToken":"id-5"}],"token"],
              "env":{"OPENAI_API_KEY":"sk-6"},"authorization":"Bearer b-7",
              "nested":{"deeper":{"access_token":"at-8","count":3}}}})");
  const json::value original = v;
  const std::string text = codex::detail::redacted(v);
  CHECK(v == original);  // redacted() works on a copy
  for (auto* secret : {"sk-secret-1", "at-2", "tok-3", "k-4", "id-5", "sk-6", "Bearer b-7", "at-8"})
    CHECK(text.find(secret) == std::string::npos);

  codex::detail::redact_secrets(v);
  CHECK(v == json::parse(R"({
    "method":"account/login/start",
    "params":{"type":"apiKey","apiKey":"<redacted>"},
    "result":{"accessToken":"<redacted>","token":"<redacted>","refreshToken":true,"name":"keep",
              "list":[{"api_key":"<redacted>"},[{"idToken":"<redacted>"}],"token"],
              "env":{"OPENAI_API_KEY":"<redacted>"},"authorization":"<redacted>",
              "nested":{"deeper":{"access_token":"<redacted>","count":3}}}})"));
  CHECK(text == json::serialize(v));
}

// ================================================================ server requests

TEST_CASE("server_request_kind classifies every method", "[approvals]") {
  using K = codex::ServerRequestKind;
  using codex::server_request_kind;
  CHECK(server_request_kind("item/commandExecution/requestApproval") ==
        K::command_execution_approval);
  CHECK(server_request_kind("item/fileChange/requestApproval") == K::file_change_approval);
  CHECK(server_request_kind("item/permissions/requestApproval") == K::permissions_approval);
  CHECK(server_request_kind("item/tool/requestUserInput") == K::user_input);
  CHECK(server_request_kind("mcpServer/elicitation/request") == K::mcp_elicitation);
  CHECK(server_request_kind("item/tool/call") == K::dynamic_tool_call);
  CHECK(server_request_kind("account/chatgptAuthTokens/refresh") == K::chatgpt_auth_tokens_refresh);
  CHECK(server_request_kind("attestation/generate") == K::attestation);
  CHECK(server_request_kind("execCommandApproval") == K::legacy_exec_approval);
  CHECK(server_request_kind("applyPatchApproval") == K::legacy_patch_approval);
  CHECK(server_request_kind("some/new/request") == K::unknown);
  CHECK(server_request_kind("") == K::unknown);
}

TEST_CASE("ServerReply::refuse gives a well-formed fail-closed reply for every kind",
          "[approvals]") {
  auto request = [](std::string method) {
    codex::ServerRequest r;
    r.id = 7;
    r.kind = codex::server_request_kind(method);
    r.method = std::move(method);
    return r;
  };
  auto result_of = [&](std::string method) {
    auto reply = codex::ServerReply::refuse(request(std::move(method)));
    REQUIRE(reply.error_code == 0);
    REQUIRE(reply.result.has_value());
    return *reply.result;
  };
  CHECK(result_of("item/commandExecution/requestApproval") ==
        json::parse(R"({"decision":"decline"})"));
  CHECK(result_of("item/fileChange/requestApproval") == json::parse(R"({"decision":"decline"})"));
  CHECK(result_of("item/permissions/requestApproval") ==
        json::parse(R"({"permissions":{},"scope":"turn"})"));
  CHECK(result_of("item/tool/requestUserInput") == json::parse(R"({"answers":{}})"));
  CHECK(result_of("mcpServer/elicitation/request") == json::parse(R"({"action":"decline"})"));
  {
    auto tool = result_of("item/tool/call");
    REQUIRE(tool.is_object());
    CHECK(tool.at("success") == false);
    auto& items = tool.at("contentItems").as_array();
    REQUIRE(items.size() == 1);
    CHECK(items[0].at("type") == "inputText");
    CHECK(items[0].at("text").is_string());
  }
  CHECK(result_of("execCommandApproval") == json::parse(R"({"decision":"denied"})"));
  CHECK(result_of("applyPatchApproval") == json::parse(R"({"decision":"denied"})"));

  for (auto* m : {"account/chatgptAuthTokens/refresh", "attestation/generate"}) {
    auto reply = codex::ServerReply::refuse(request(m));
    CHECK_FALSE(reply.result.has_value());
    CHECK(reply.error_code == -32603);
    CHECK(reply.error_message.find(m) != std::string::npos);
  }
  auto unknown = codex::ServerReply::refuse(request("vendor/newThing"));
  CHECK_FALSE(unknown.result.has_value());
  CHECK(unknown.error_code == -32601);
  CHECK(unknown.error_message.find("vendor/newThing") != std::string::npos);
}

TEST_CASE("ServerReply helpers", "[approvals]") {
  using codex::ApprovalDecision;
  using codex::ServerReply;
  CHECK(*ServerReply::decision(ApprovalDecision::accept).result ==
        json::parse(R"({"decision":"accept"})"));
  CHECK(*ServerReply::decision(ApprovalDecision::accept_for_session).result ==
        json::parse(R"({"decision":"acceptForSession"})"));
  CHECK(*ServerReply::decision(ApprovalDecision::cancel).result ==
        json::parse(R"({"decision":"cancel"})"));
  CHECK(ServerReply::with_error(0, "x").error_code == -32603);
  CHECK(ServerReply::with_error(-32000, "x").error_code == -32000);
  codex::ServerRequest r;
  r.kind = codex::ServerRequestKind::permissions_approval;
  CHECK(r.is_approval());
  r.kind = codex::ServerRequestKind::user_input;
  CHECK_FALSE(r.is_approval());
}
