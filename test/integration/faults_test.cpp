// Failures (python-sdk-behavior.md §6, §7 and the C++ SDK's own guarantees): failed turns,
// JSON-RPC error mapping and retry, the server dying, requests never answered, malformed and huge
// lines, server requests (approvals) and their handlers, and closing.

#include "fake_fixture.hpp"

#include "../support/exception_text.hpp"

#include <boost/asio/detached.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <optional>
#include <type_traits>
#include <typeinfo>

namespace {

using namespace itest;
using codex::testing::what_of;

/// Awaits `aw` and returns what it threw (null when it did not throw).
template <class T>
asio::awaitable<std::exception_ptr> error_of(asio::awaitable<T> aw) {
  std::exception_ptr out;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(aw);
    } else {
      (void)co_await std::move(aw);
    }
  } catch (...) {
    out = std::current_exception();
  }
  co_return out;
}

/// The exception in `e` as E, or nullopt (also when `e` holds some other type).
template <class E>
std::optional<E> as(const std::exception_ptr& e) {
  if (!e) return std::nullopt;
  try {
    std::rethrow_exception(e);
  } catch (const E& x) {
    return x;
  } catch (...) {
  }
  return std::nullopt;
}

/// The dynamic type of the exception in `e`.
const std::type_info* type_of(const std::exception_ptr& e) {
  if (!e) return nullptr;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return &typeid(x);
  } catch (...) {
  }
  return nullptr;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

/// Events with this method, in order.
std::vector<codex::Notification> with_method(const std::vector<codex::Notification>& evs,
                                             std::string_view m) {
  std::vector<codex::Notification> out;
  for (auto& e : evs)
    if (e.method == m) out.push_back(e);
  return out;
}

asio::awaitable<std::vector<codex::Notification>> drain(codex::AsyncTurnStream& s) {
  std::vector<codex::Notification> out;
  while (auto ev = co_await s.next(ms(10000)))
    out.push_back(std::move(*ev));
  co_return out;
}

/// The one fake child started since `before` (fails unless exactly one).
int new_child(const std::set<int>& before) {
  std::vector<int> fresh;
  for (int p : fake_children())
    if (!before.count(p)) fresh.push_back(p);
  REQUIRE(fresh.size() == 1);
  return fresh[0];
}

bool process_gone(int pid) {
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

// Three server requests on the turn, each answer echoed back on the turn as `test/reply`,
// then the rest of the turn.
const char* kThreeRequests = R"({"on":{"turn/start":[[{"default":"response"},
  {"request":"item/commandExecution/requestApproval","params":{"threadId":"$threadId",
    "turnId":"$turnId","itemId":"call_1","command":"/bin/bash -c 'touch x'","cwd":"/tmp",
    "availableDecisions":["accept","cancel"]}},
  {"await_reply":true,"timeout_ms":20000},
  {"notify":"test/reply","params":{"threadId":"$threadId","turnId":"$turnId","reply":"$reply"}},
  {"request":"item/fileChange/requestApproval","params":{"threadId":"$threadId",
    "turnId":"$turnId","itemId":"patch_1","reason":"edit"}},
  {"await_reply":true,"timeout_ms":20000},
  {"notify":"test/reply","params":{"threadId":"$threadId","turnId":"$turnId","reply":"$reply"}},
  {"request":"item/unknownThing/request","params":{"threadId":"$threadId","turnId":"$turnId"}},
  {"await_reply":true,"timeout_ms":20000},
  {"notify":"test/reply","params":{"threadId":"$threadId","turnId":"$turnId","reply":"$reply"}},
  {"turn":{"user_message":false,"started":false}}]]}})";

/// Runs one turn of kThreeRequests and returns its events.
std::vector<codex::Notification> three_requests_turn(codex::CodexConfig cfg,
                                                     codex::ThreadStartOptions so = {},
                                                     codex::TurnOptions to = {}) {
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), std::move(cfg));
  std::vector<codex::Notification> evs;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    auto t = co_await client.thread_start(so);
    auto h = co_await t.turn("go", to);
    auto s = h.stream();
    evs = co_await drain(s);
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);  // still working
    co_await client.close();
  }());
  return evs;
}

void check_request_events(const std::vector<codex::Notification>& evs) {
  std::vector<codex::Notification> reqs;
  for (auto& e : evs)
    if (e.is_request()) reqs.push_back(e);
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].method == "item/commandExecution/requestApproval");
  CHECK(reqs[0].request.request().kind == codex::ServerRequestKind::command_execution_approval);
  CHECK(reqs[0].request.request().item_id == "call_1");
  CHECK(reqs[0].request.request().turn_id == "turn_1");
  CHECK(reqs[0].request.request().thread_id == "thr_1");
  CHECK(reqs[0].request.request().id == 0);
  CHECK(reqs[1].request.request().kind == codex::ServerRequestKind::file_change_approval);
  CHECK(reqs[2].request.request().kind == codex::ServerRequestKind::unknown);
  for (auto& r : reqs)
    CHECK(r.request.done());
  REQUIRE(!evs.empty());
  CHECK(evs.back().method == "turn/completed");
}

/// A handler that waits until cancelled; counts its cancellations.
codex::ApprovalHandler waiting_handler(std::shared_ptr<int> cancelled) {
  return [cancelled](codex::ServerRequest) -> asio::awaitable<codex::ServerReply> {
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_at(asio::steady_timer::time_point::max());
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) ++*cancelled;
    co_return codex::ServerReply::decision(codex::ApprovalDecision::decline);
  };
}

}  // namespace

// ---------------------------------------------------------------- failed turns

TEST_CASE("a failed turn: run() throws TurnFailedError with the TurnError, collect() returns",
          "[faults][turn]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[
    [{"default":"response"},{"turn":{"status":"failed","error":{"message":"boom",
      "codexErrorInfo":"internalServerError","additionalDetails":"details here"}}}],
    [{"default":"response"},{"turn":{"status":"failed","error":{"message":"too many",
      "codexErrorInfo":{"responseTooManyFailedAttempts":{"httpStatusCode":429}},
      "additionalDetails":null}}}],
    [{"default":"response"},{"turn":{"status":"failed","error":{"message":"quota",
      "codexErrorInfo":null}}}],
    [{"default":"response"},{"turn":{"status":"interrupted"}}],
    [{"default":"response"},{"turn":{"status":"failed","error":{"message":"overloaded",
      "codexErrorInfo":"serverOverloaded"}}}]]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::exception_ptr run_err;
  codex::TurnResult collected, collected_null, interrupted;
  std::exception_ptr overloaded;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    run_err = co_await error_of(t.run("1", to));
    auto h2 = co_await t.turn("2", to);
    collected = co_await h2.collect();
    auto h3 = co_await t.turn("3", to);
    collected_null = co_await h3.collect();
    interrupted = co_await t.run("4", to);  // interrupted: returns normally
    overloaded = co_await error_of(t.run("5", to));
    co_await client.close();
  }());

  auto e = as<codex::TurnFailedError>(run_err);
  INFO(what_of(run_err));
  REQUIRE(e);
  CHECK(e->result().id == "turn_1");
  CHECK(e->result().status == codex::TurnStatus::failed);
  CHECK(e->result().started_at.has_value());
  CHECK(!e->result().final_response);
  CHECK(e->error().message == "boom");
  CHECK(e->error().codex_error_info == "internalServerError");
  CHECK(e->error().kind() == "internalServerError");
  CHECK(e->error().additional_details == std::optional<std::string>("details here"));
  REQUIRE(e->result().error);
  CHECK(e->result().error->message == "boom");
  CHECK(contains(e->what(), "boom"));
  CHECK(!codex::is_retryable_error(*e));

  CHECK(collected.id == "turn_2");
  CHECK(collected.status == codex::TurnStatus::failed);
  REQUIRE(collected.error);
  CHECK(collected.error->message == "too many");
  CHECK(collected.error->codex_error_info.is_object());
  CHECK(collected.error->kind() == "responseTooManyFailedAttempts");
  CHECK(collected.error->http_status_code() == std::optional<std::int64_t>(429));
  CHECK(!collected.error->additional_details);

  CHECK(collected_null.status == codex::TurnStatus::failed);
  REQUIRE(collected_null.error);
  CHECK(collected_null.error->codex_error_info.is_null());
  CHECK(collected_null.error->kind().empty());

  // A turn that failed because the server is overloaded may be retried.
  auto busy_turn = as<codex::TurnFailedError>(overloaded);
  REQUIRE(busy_turn);
  CHECK(busy_turn->error().is_server_overloaded());
  CHECK(codex::is_retryable_error(overloaded));

  CHECK(interrupted.id == "turn_4");
  CHECK(interrupted.status == codex::TurnStatus::interrupted);
  CHECK(!interrupted.error);
}

TEST_CASE("sync client: a failed turn throws TurnFailedError from run()", "[faults][turn][sync]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},{"turn":{"status":"failed"}}]}})");
  codex::Codex client(fake.config());
  auto t = client.thread_start();
  try {
    (void)t.run("x");
    FAIL("run() returned for a failed turn");
  } catch (const codex::TurnFailedError& e) {
    CHECK(e.result().status == codex::TurnStatus::failed);
    CHECK(e.error().kind() == "internalServerError");
    CHECK(!e.error().message.empty());
  }
  auto h = t.turn("y");
  auto r = h.collect();
  CHECK(r.status == codex::TurnStatus::failed);
  CHECK(r.id == "turn_2");
}

// ---------------------------------------------------------------- JSON-RPC errors and retry

TEST_CASE("JSON-RPC error responses map to the right exception classes", "[faults][errors]") {
  Watchdog wd;
  Fake fake(R"({"on":{"test/err":[
    [{"error":{"code":-32001,"message":"Server overloaded; retry later."}}],
    [{"error":{"code":-32600,"message":"bad request here"}}],
    [{"error":{"code":-32601,"message":"no such method"}}],
    [{"error":{"code":-32602,"message":"bad params"}}],
    [{"error":{"code":-32603,"message":"internal"}}],
    [{"error":{"code":-32700,"message":"parse"}}],
    [{"error":{"code":-32050,"message":"custom server error"}}],
    [{"error":{"code":-32000,"message":"busy","data":{"codexErrorInfo":"serverOverloaded"}}}],
    [{"error":{"code":-32001,"message":"Retry limit reached after too many failed attempts"}}],
    [{"error":{"code":42,"message":"odd","data":{"x":1}}}],
    [{"error":{"code":-32099,"message":"busy too","data":{"codex_error_info":"server_overloaded"}}}],
    [{"error":"not an object"}]]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::vector<std::exception_ptr> errs;
  json::object models;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 12; ++i)
      errs.push_back(co_await error_of(client.request("test/err")));
    codex::ModelsOptions mo;
    models = co_await client.models(mo);  // errors do not hurt the connection
    co_await client.close();
  }());
  REQUIRE(errs.size() == 12);
  for (auto& e : errs) {
    INFO(what_of(e));
    REQUIRE(e);
  }

  auto busy = as<codex::ServerBusyError>(errs[0]);
  REQUIRE(busy);
  CHECK(*type_of(errs[0]) == typeid(codex::ServerBusyError));
  CHECK(busy->code() == -32001);
  CHECK(busy->rpc_message() == "Server overloaded; retry later.");
  CHECK(busy->method() == "test/err");
  CHECK(codex::is_retryable_error(*busy));
  CHECK(codex::is_retryable_error(errs[0]));

  auto inv = as<codex::InvalidRequestError>(errs[1]);
  REQUIRE(inv);
  CHECK(*type_of(errs[1]) == typeid(codex::InvalidRequestError));
  CHECK(inv->code() == -32600);
  CHECK(inv->rpc_message() == "bad request here");
  CHECK(contains(inv->what(), "test/err"));
  CHECK(contains(inv->what(), "-32600"));
  CHECK(contains(inv->what(), "bad request here"));
  CHECK(!codex::is_retryable_error(*inv));

  CHECK(*type_of(errs[2]) == typeid(codex::MethodNotFoundError));
  CHECK(*type_of(errs[3]) == typeid(codex::InvalidParamsError));
  CHECK(*type_of(errs[4]) == typeid(codex::InternalRpcError));
  CHECK(*type_of(errs[5]) == typeid(codex::ParseError));
  CHECK(*type_of(errs[6]) == typeid(codex::CodexRpcError));
  CHECK(!codex::is_retryable_error(errs[6]));
  CHECK(*type_of(errs[7]) == typeid(codex::ServerBusyError));
  CHECK(codex::is_retryable_error(errs[7]));
  REQUIRE(as<codex::JsonRpcError>(errs[7]));
  CHECK(as<codex::JsonRpcError>(errs[7])->data() == J(R"({"codexErrorInfo":"serverOverloaded"})"));
  CHECK(*type_of(errs[8]) == typeid(codex::RetryLimitExceededError));
  CHECK(as<codex::ServerBusyError>(errs[8]));  // a subclass of ServerBusyError
  CHECK(!codex::is_retryable_error(errs[8]));  // the server already retried
  CHECK(*type_of(errs[9]) == typeid(codex::JsonRpcError));
  CHECK(as<codex::JsonRpcError>(errs[9])->code() == 42);
  CHECK(as<codex::JsonRpcError>(errs[9])->data() == J(R"({"x":1})"));
  CHECK(*type_of(errs[10]) == typeid(codex::ServerBusyError));
  // A malformed error member is a protocol error, not a hang.
  CHECK(as<codex::CodexError>(errs[11]));
  CHECK(models.contains("data"));
}

TEST_CASE("async_retry_on_overload and retry_on_overload turn overloads into a result",
          "[faults][retry]") {
  Watchdog wd;
  const char* script = R"({"on":{
    "thread/start":[[{"error":{"code":-32001,"message":"Server overloaded; retry later."}}],
                    [{"error":{"code":-32001,"message":"Server overloaded; retry later."}}],
                    [{"default":true}]],
    "thread/read":[[{"error":{"code":-32001,"message":"Server overloaded; retry later."}}]],
    "test/bad":[[{"error":{"code":-32600,"message":"nope"}}]]}})";
  codex::RetryOptions fast;
  fast.max_attempts = 3;
  fast.initial_delay = ms(10);
  fast.max_delay = ms(20);

  SECTION("async") {
    Fake fake(script);
    asio::io_context ioc;
    codex::AsyncCodex client(ioc.get_executor(), fake.config());
    std::string id;
    std::exception_ptr exhausted, not_retried;
    run_async(ioc, [&]() -> asio::awaitable<void> {
      codex::ThreadStartOptions so;
      auto start = [&]() { return client.thread_start(so); };
      auto t = co_await codex::async_retry_on_overload(start, fast);
      id = t.id();
      codex::ReadOptions ro;
      auto read = [&]() { return t.read(ro); };
      exhausted = co_await error_of(codex::async_retry_on_overload(read, fast));
      auto bad = [&]() { return client.request("test/bad"); };
      not_retried = co_await error_of(codex::async_retry_on_overload(bad, fast));
      co_await client.close();
    }());
    CHECK(id == "thr_3");  // the fake numbers every thread/start call
    CHECK(fake.requests("thread/start").size() == 3);
    CHECK(as<codex::ServerBusyError>(exhausted));
    CHECK(fake.requests("thread/read").size() == 3);
    CHECK(as<codex::InvalidRequestError>(not_retried));
    CHECK(fake.requests("test/bad").size() == 1);
  }
  SECTION("sync") {
    Fake fake(script);
    codex::Codex client(fake.config());
    auto t = codex::retry_on_overload([&] { return client.thread_start(); }, fast);
    CHECK(t.id() == "thr_3");
    CHECK(fake.requests("thread/start").size() == 3);
    codex::RetryOptions two = fast;
    two.max_attempts = 2;
    CHECK_THROWS_AS(codex::retry_on_overload([&] { return t.read(); }, two),
                    codex::ServerBusyError);
    CHECK(fake.requests("thread/read").size() == 2);
  }
}

// ---------------------------------------------------------------- the server dies

TEST_CASE("the server dying mid-stream fails the stream promptly, stickily, with its status",
          "[faults][death]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},
      {"turn":{"deltas":["par"],"complete":false}},
      {"stderr":"panic: boom at line 7"},{"exit":101}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::vector<codex::Notification> before;
  std::exception_ptr stream_err, later_models, later_read, later_run, later_turn;
  steady::duration stream_took{}, later_took{};
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("go", to);
    auto s = h.stream();
    auto t0 = steady::now();
    try {
      while (auto ev = co_await s.next(ms(10000)))
        before.push_back(std::move(*ev));
    } catch (...) {
      stream_err = std::current_exception();
    }
    stream_took = steady::now() - t0;
    auto t1 = steady::now();
    codex::ModelsOptions mo;
    later_models = co_await error_of(client.models(mo));
    codex::ReadOptions ro;
    later_read = co_await error_of(t.read(ro));
    later_run = co_await error_of(h.run());
    later_turn = co_await error_of(t.turn("again", to));
    later_took = steady::now() - t1;
    co_await client.close();
  }());
  CHECK(with_method(before, "item/agentMessage/delta").size() == 1);
  auto closed = as<codex::TransportClosedError>(stream_err);
  INFO(what_of(stream_err));
  REQUIRE(closed);
  CHECK(closed->exit_status() == std::optional<int>(101));
  CHECK(contains(closed->stderr_tail(), "panic: boom at line 7"));
  CHECK(stream_took < 5s);
  for (auto* e : {&later_models, &later_read, &later_run, &later_turn}) {
    INFO(what_of(*e));
    auto c = as<codex::TransportClosedError>(*e);
    REQUIRE(c);
    CHECK(c->exit_status() == std::optional<int>(101));
  }
  CHECK(later_took < 1s);  // sticky: later calls fail at once

  // A new client works.
  Fake fresh;
  codex::AsyncCodex again(ioc.get_executor(), fresh.config());
  json::object models;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ModelsOptions mo;
    models = co_await again.models(mo);
    co_await again.close();
  }());
  CHECK(models.contains("data"));
}

TEST_CASE("sync client: the server dying fails run() and every later call",
          "[faults][death][sync]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},
      {"turn":{"deltas":["par"],"complete":false}},{"stderr":"fatal: gone"},{"exit":7}]}})");
  codex::Codex client(fake.config());
  auto t = client.thread_start();
  try {
    (void)t.run("x");
    FAIL("run() returned although the server died");
  } catch (const codex::TransportClosedError& e) {
    CHECK(e.exit_status() == std::optional<int>(7));
    CHECK(contains(e.stderr_tail(), "fatal: gone"));
  }
  CHECK_THROWS_AS(client.models(), codex::TransportClosedError);
  CHECK_THROWS_AS(client.thread_start(), codex::TransportClosedError);
}

TEST_CASE("a server that exits before initialize fails start with its status", "[faults][death]") {
  Watchdog wd;
  Fake fake(R"({"on_start":[{"stderr":"error: not logged in"},{"exit":3}]})");
  auto before = fake_children();
  try {
    codex::Codex client(fake.config());
    (void)client;
    FAIL("the constructor returned although the server exited");
  } catch (const codex::TransportClosedError& e) {
    CHECK(e.exit_status() == std::optional<int>(3));
    CHECK(contains(e.stderr_tail(), "error: not logged in"));
  }
  // Nothing is left running (nor unreaped).
  for (int p : fake_children())
    CHECK(before.count(p) == 1);
}

// ---------------------------------------------------------------- timeouts

TEST_CASE("a request never answered times out, the client stays usable, a late answer is dropped",
          "[faults][timeout]") {
  Watchdog wd;
  // The second call's reaction first answers the first (timed-out) request's id, 2.
  Fake fake(R"({"on":{"custom/never":[{"no_reply":true}],
      "model/list":[[{"respond":{"data":"LATE"},"id":2},{"default":true}]],
      "turn/start":[{"default":"response"},{"turn":{"deltas":["x"],"complete":false}}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::exception_ptr never, stream_timeout;
  steady::duration never_took{};
  json::object models;
  std::vector<codex::Notification> evs;
  codex::TurnResult interrupted;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    co_await client.start();
    auto t0 = steady::now();
    codex::CallOptions co;
    co.timeout = ms(200);
    never = co_await error_of(client.request("custom/never", json::object(), co));
    never_took = steady::now() - t0;
    codex::ModelsOptions mo;
    models = co_await client.models(mo);

    // A stream wait with a deadline times out and the stream stays usable.
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("x", to);
    auto s = h.stream();
    while (auto ev = s.try_next())
      evs.push_back(std::move(*ev));
    for (;;) {  // read until the turn goes quiet (the delta is its last event)
      if (!evs.empty() && evs.back().method == "item/agentMessage/delta") break;
      auto ev = co_await s.next(ms(10000));
      if (!ev) break;
      evs.push_back(std::move(*ev));
    }
    stream_timeout = co_await error_of(s.next(ms(100)));
    (void)co_await h.interrupt();
    while (auto ev = co_await s.next(ms(10000)))
      evs.push_back(std::move(*ev));
    co_await client.close();
  }());
  auto rq = fake.requests("custom/never");
  REQUIRE(rq.size() == 1);
  REQUIRE(rq[0].at("id") == 2);  // the id the script answers late
  auto te = as<codex::TimeoutError>(never);
  INFO(what_of(never));
  REQUIRE(te);
  CHECK(te->method() == "custom/never");
  CHECK(te->timeout() == ms(200));
  CHECK(never_took >= ms(190));
  CHECK(never_took < 5s);
  // The late answer to id 2 was dropped: models() got its own result.
  REQUIRE(models.contains("data"));
  CHECK(models.at("data").is_array());
  REQUIRE(as<codex::TimeoutError>(stream_timeout));
  REQUIRE(!evs.empty());
  CHECK(evs.back().method == "turn/completed");
  CHECK(evs.back().params.at("turn").at("status") == "interrupted");
}

// ---------------------------------------------------------------- malformed and huge lines

TEST_CASE("malformed and oversize lines are skipped and the connection keeps working",
          "[faults][lines]") {
  Watchdog wd;
  Fake fake(R"({"on":{"model/list":[[
      {"raw":"not json"},
      {"raw":"[1,2,3]"},
      {"raw":"\"just a string\""},
      {"raw":"42"},
      {"raw":"{}"},
      {"raw":"{\"id\":9999,\"result\":{\"bogus\":true}}"},
      {"raw":"{\"id\":\"foreign\",\"result\":{}}"},
      {"raw":"{\"method\":\"half\",\"params\":"},
      {"raw_hex":"7b226d6574686f64223a22ff227d"},
      {"raw_hex":"7b226d6574686f64223a22c328222c22706172616d73223a7b7d7d"},
      {"huge_line_bytes":2097152,"method":"too/big"},
      {"notify":"after/junk","params":{"ok":true}},
      {"default":true}]]}})");
  auto cfg = fake.config();
  cfg.limits.max_line_bytes = 1024 * 1024;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  json::object models;
  codex::AccountInfo acct;
  std::vector<codex::Notification> evs;
  std::exception_ptr nothing_more;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ModelsOptions mo;
    models = co_await client.models(mo);
    codex::AccountOptions ao;
    acct = co_await client.account(ao);
    evs.push_back(co_await client.next_event(ms(5000)));
    evs.push_back(co_await client.next_event(ms(5000)));
    nothing_more = co_await error_of(client.next_event(ms(100)));
    co_await client.close();
  }());
  REQUIRE(models.contains("data"));
  CHECK(models.at("data").as_array().size() == 2);
  CHECK(acct.raw.contains("account"));
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].method == "remoteControl/status/changed");
  CHECK(evs[1].method == "after/junk");
  CHECK(evs[1].params == O(R"({"ok":true})"));
  // None of the junk (nor the oversize line) became an event.
  INFO(what_of(nothing_more));
  CHECK(as<codex::TimeoutError>(nothing_more));
}

TEST_CASE("a 20 MiB line is delivered intact when the limit allows it", "[faults][lines]") {
  Watchdog wd;
  constexpr std::size_t kBytes = 20u * 1024u * 1024u;
  Fake fake(R"({"on":{"model/list":[[
      {"huge_line_bytes":20971520,"method":"big/event","params":{"tag":"t"}},
      {"default":true}]]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::vector<codex::Notification> evs;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);
    evs.push_back(co_await client.next_event(ms(5000)));
    evs.push_back(co_await client.next_event(ms(5000)));
    co_await client.close();
  }());
  REQUIRE(evs.size() == 2);
  CHECK(evs[1].method == "big/event");
  CHECK(evs[1].params.at("tag") == "t");
  REQUIRE(evs[1].params.contains("data"));
  const auto& data = evs[1].params.at("data").as_string();
  // The line: {"method":"big/event","params":{"tag":"t","data":"x…x"},"emittedAtMs":<13 digits>}
  const std::string head = R"({"method":"big/event","params":{"tag":"t","data":")";
  const std::string tail = R"("},"emittedAtMs":0000000000000})";
  CHECK(data.size() == kBytes - head.size() - tail.size());
  CHECK(std::all_of(data.begin(), data.end(), [](char c) { return c == 'x'; }));
}

// ---------------------------------------------------------------- server requests

TEST_CASE("no handler: approvals are declined and unknown requests get an error (fail-closed)",
          "[faults][approvals]") {
  Watchdog wd;
  Fake fake(kThreeRequests);
  auto evs = three_requests_turn(fake.config());
  check_request_events(evs);
  auto replies = with_method(evs, "test/reply");
  REQUIRE(replies.size() == 3);
  const auto& r0 = replies[0].params.at("reply").as_object();
  CHECK(r0.at("id") == 0);
  CHECK(r0.at("result") == J(R"({"decision":"decline"})"));
  CHECK(replies[1].params.at("reply").at("result") == J(R"({"decision":"decline"})"));
  const auto& r2 = replies[2].params.at("reply").as_object();
  CHECK(r2.contains("error"));
  CHECK(!r2.contains("result"));
  CHECK(r2.at("error").at("code").is_int64());
  // Each request got exactly one reply.
  CHECK(fake.replies().size() == 3);
}

namespace {
std::vector<codex::Notification> sync_three_requests_turn(const codex::CodexConfig& cfg) {
  codex::Codex client(cfg);
  auto t = client.thread_start();
  auto h = t.turn("go");
  std::vector<codex::Notification> evs;
  for (const auto& ev : h.stream())
    evs.push_back(ev);
  client.close();
  return evs;
}
}  // namespace

TEST_CASE("sync client: approvals without a handler are declined (fail-closed)",
          "[faults][approvals][sync]") {
  Watchdog wd;
  Fake fake(kThreeRequests);
  auto evs = sync_three_requests_turn(fake.config());
  check_request_events(evs);
  auto replies = with_method(evs, "test/reply");
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"decline"})"));
  CHECK(replies[1].params.at("reply").at("result") == J(R"({"decision":"decline"})"));
  CHECK(replies[2].params.at("reply").as_object().contains("error"));
}

TEST_CASE("sync client: approve_all accepts approvals", "[faults][approvals][sync]") {
  Watchdog wd;
  Fake fake(kThreeRequests);
  auto cfg = fake.config();
  cfg.approval_handler = codex::approve_all();
  auto evs = sync_three_requests_turn(cfg);
  check_request_events(evs);
  auto replies = with_method(evs, "test/reply");
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
  CHECK(replies[1].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
  CHECK(replies[2].params.at("reply").as_object().contains("error"));
}

TEST_CASE("approve_all accepts approvals and refuses unknown requests, a thread handler wins",
          "[faults][approvals]") {
  Watchdog wd;
  SECTION("client-wide approve_all") {
    Fake fake(kThreeRequests);
    auto cfg = fake.config();
    cfg.approval_handler = codex::approve_all();
    auto evs = three_requests_turn(cfg);
    check_request_events(evs);
    auto replies = with_method(evs, "test/reply");
    REQUIRE(replies.size() == 3);
    CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
    CHECK(replies[1].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
    CHECK(replies[2].params.at("reply").as_object().contains("error"));
    CHECK(!replies[2].params.at("reply").as_object().contains("result"));
  }
  SECTION("the thread's decline_all over the client's approve_all") {
    Fake fake(kThreeRequests);
    auto cfg = fake.config();
    cfg.approval_handler = codex::approve_all();
    codex::ThreadStartOptions so;
    so.approval_handler = codex::decline_all();
    auto evs = three_requests_turn(cfg, std::move(so));
    auto replies = with_method(evs, "test/reply");
    REQUIRE(replies.size() == 3);
    CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"decline"})"));
    CHECK(replies[1].params.at("reply").at("result") == J(R"({"decision":"decline"})"));
  }
}

TEST_CASE("a turn's handler applies to requests that follow the turn/start response at once",
          "[faults][approvals]") {
  Watchdog wd;
  // kThreeRequests sends the first request right after the response, in the same write.
  Fake fake(kThreeRequests);
  codex::ThreadStartOptions so;
  so.approval_handler = codex::decline_all();
  codex::TurnOptions to;
  to.approval_handler = codex::approve_all();
  auto evs = three_requests_turn(fake.config(), std::move(so), std::move(to));
  auto replies = with_method(evs, "test/reply");
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
  CHECK(replies[1].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
}

TEST_CASE("a plain-function handler that throws yields an error reply, the connection goes on",
          "[faults][approvals]") {
  Watchdog wd;
  Fake fake(kThreeRequests);
  auto cfg = fake.config();
  cfg.approval_handler = [](const codex::ServerRequest&) -> codex::ServerReply {
    throw std::runtime_error("handler boom");
  };
  auto evs = three_requests_turn(cfg);
  check_request_events(evs);
  auto replies = with_method(evs, "test/reply");
  REQUIRE(replies.size() == 3);
  for (auto& r : replies) {
    const auto& reply = r.params.at("reply").as_object();
    CHECK(!reply.contains("result"));
    REQUIRE(reply.contains("error"));
    CHECK(contains(std::string(reply.at("error").at("message").as_string()), "handler boom"));
  }
}

TEST_CASE("a coroutine handler that answers or throws at once", "[faults][approvals]") {
  Watchdog wd;
  Fake fake(kThreeRequests);
  auto cfg = fake.config();
  cfg.approval_handler = [](codex::ServerRequest r) -> asio::awaitable<codex::ServerReply> {
    if (r.kind == codex::ServerRequestKind::file_change_approval)
      throw std::runtime_error("async handler boom");
    co_return codex::ServerReply::decision(codex::ApprovalDecision::accept_for_session);
  };
  auto evs = three_requests_turn(cfg);
  check_request_events(evs);
  auto replies = with_method(evs, "test/reply");
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"acceptForSession"})"));
  const auto& r1 = replies[1].params.at("reply").as_object();
  REQUIRE(r1.contains("error"));
  CHECK(contains(std::string(r1.at("error").at("message").as_string()), "async handler boom"));
  CHECK(replies[2].params.at("reply").at("result") == J(R"({"decision":"acceptForSession"})"));
}

TEST_CASE("a coroutine handler may wait while another turn streams to its end",
          "[faults][approvals]") {
  Watchdog wd;
  // Turn 1 (thread 1) asks for approval and stops; turn 2 (thread 2) streams completely, and only
  // then does the fake wait for the answer to turn 1's request.
  Fake fake(R"({"on":{"turn/start":[
    [{"default":"response"},
     {"request":"item/commandExecution/requestApproval","params":{"threadId":"$threadId",
       "turnId":"$turnId","itemId":"call_a","command":"ls","cwd":"/tmp"}}],
    [{"default":"response"},{"turn":{}},
     {"await_reply":0,"timeout_ms":20000},
     {"notify":"test/reply","params":{"threadId":"thr_1","turnId":"turn_1","reply":"$reply"}},
     {"turn":{"threadId":"thr_1","turnId":"turn_1","user_message":false,"started":false}}]]}})");
  asio::io_context ioc;
  asio::steady_timer gate(ioc, asio::steady_timer::time_point::max());
  int handler_calls = 0;
  auto cfg = fake.config();
  cfg.approval_handler = [&](codex::ServerRequest) -> asio::awaitable<codex::ServerReply> {
    ++handler_calls;
    (void)co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));  // opened by the test
    co_return codex::ServerReply::decision(codex::ApprovalDecision::accept);
  };
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  codex::TurnResult other;
  bool pending_while_other_ran = false, done_after = false;
  std::vector<codex::Notification> first;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t1 = co_await client.thread_start(so);
    auto t2 = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h1 = co_await t1.turn("needs approval", to);
    auto s1 = h1.stream();
    codex::PendingRequest pending;
    while (!pending) {
      auto ev = co_await s1.next(ms(10000));
      if (!ev) break;
      if (ev->is_request()) pending = ev->request;
      first.push_back(std::move(*ev));
    }
    auto h2 = co_await t2.turn("other", to);
    other = co_await h2.run();  // streams to its end while the handler waits
    pending_while_other_ran = pending && !pending.done();
    gate.cancel();  // let the handler answer
    while (auto ev = co_await s1.next(ms(10000)))
      first.push_back(std::move(*ev));
    done_after = pending && pending.done();
    co_await client.close();
  }());
  CHECK(handler_calls == 1);
  CHECK(other.status == codex::TurnStatus::completed);
  CHECK(other.final_response == std::optional<std::string>("Hello world"));
  CHECK(pending_while_other_ran);
  CHECK(done_after);
  auto replies = with_method(first, "test/reply");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
  REQUIRE(!first.empty());
  CHECK(first.back().method == "turn/completed");
}

TEST_CASE("a server request on the turn's stream can be answered there", "[faults][approvals]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[[{"default":"response"},
    {"request":"item/commandExecution/requestApproval","params":{"threadId":"$threadId",
      "turnId":"$turnId","itemId":"call_1","command":"rm -rf build","cwd":"/tmp"}},
    {"await_reply":true,"timeout_ms":20000},
    {"notify":"test/reply","params":{"threadId":"$threadId","turnId":"$turnId","reply":"$reply"}},
    {"turn":{"user_message":false,"started":false}}]]}})");
  auto cancelled = std::make_shared<int>(0);
  auto cfg = fake.config();
  cfg.approval_handler = waiting_handler(cancelled);  // never answers by itself
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  std::vector<codex::Notification> evs;
  bool first_answer = false, second_answer = true, done_before = true, done_after = false;
  bool handler_cancelled = false;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("x", to);
    auto s = h.stream();
    while (auto ev = co_await s.next(ms(10000))) {
      if (ev->is_request()) {
        done_before = ev->request.done();
        first_answer = ev->request.decide(codex::ApprovalDecision::accept);
        second_answer = ev->request.decide(codex::ApprovalDecision::decline);
        done_after = ev->request.done();
      }
      evs.push_back(std::move(*ev));
    }
    // Either the program answered before the handler got its turn on the executor (the handler
    // is never invoked), or the handler was already waiting and the answer cancelled it: it
    // never answers (one reply, the program's, checked below).
    handler_cancelled = *cancelled <= 1;
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);  // every reply has reached the log after this
    co_await client.close();
  }());
  std::vector<codex::Notification> reqs;
  for (auto& e : evs)
    if (e.is_request()) reqs.push_back(e);
  REQUIRE(reqs.size() == 1);
  const auto& req = reqs[0].request.request();
  CHECK(reqs[0].method == "item/commandExecution/requestApproval");
  CHECK(req.method == "item/commandExecution/requestApproval");
  CHECK(req.params.at("command") == "rm -rf build");
  CHECK(req.item_id == "call_1");
  CHECK(req.is_approval());
  CHECK(reqs[0].turn_id() == "turn_1");
  CHECK(!done_before);
  CHECK(first_answer);
  CHECK(!second_answer);  // the first answer wins
  CHECK(done_after);
  CHECK(handler_cancelled);
  auto replies = with_method(evs, "test/reply");
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].params.at("reply").at("result") == J(R"({"decision":"accept"})"));
  CHECK(fake.replies().size() == 1);  // one answer only
  REQUIRE(!evs.empty());
  CHECK(evs.back().method == "turn/completed");
}

TEST_CASE("serverRequest/resolved marks a pending request done and cancels its handler",
          "[faults][approvals]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[[{"default":"response"},
    {"request":"item/fileChange/requestApproval","params":{"threadId":"$threadId",
      "turnId":"$turnId","itemId":"patch_1"}},
    {"sleep_ms":300},
    {"notify":"serverRequest/resolved","params":{"threadId":"$threadId","requestId":"$requestId"}},
    {"turn":{"user_message":false,"started":false}}]]}})");
  // The fake paces the withdrawal so the handler is already waiting when it arrives (a request
  // withdrawn in the same read, before its handler started, never reaches the handler at all).
  auto cancelled = std::make_shared<int>(0);
  auto cfg = fake.config();
  cfg.approval_handler = waiting_handler(cancelled);
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  codex::PendingRequest pending;
  bool handler_cancelled = false, late_answer = true;
  std::vector<std::string> client_events;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("x", to);
    auto s = h.stream();
    while (auto ev = co_await s.next(ms(10000)))
      if (ev->is_request()) pending = ev->request;
    handler_cancelled = co_await eventually([&] { return *cancelled == 1; });
    late_answer = pending && pending.decide(codex::ApprovalDecision::accept);
    for (;;) {
      auto ev = co_await client.next_event(ms(5000));
      client_events.push_back(ev.method);
      if (ev.method == "serverRequest/resolved") break;
    }
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);
    co_await client.close();
  }());
  REQUIRE(pending);
  CHECK(pending.done());
  CHECK(pending.resolved_by_server());
  CHECK(handler_cancelled);
  CHECK(!late_answer);
  CHECK(fake.replies().empty());  // nothing is sent for a withdrawn request
  CHECK(client_events.back() == "serverRequest/resolved");
}

// ---------------------------------------------------------------- closing

TEST_CASE("close() ends a pending stream with TransportClosedError and ends the process",
          "[faults][close]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},
      {"turn":{"deltas":["x"],"complete":false}}]}})");
  const auto before = fake_children();
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  int pid = -1;
  bool reader_done = false;
  std::exception_ptr pending_err, after_close;
  std::optional<codex::Notification> unexpected;
  steady::duration close_took{};
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    pid = new_child(before);
    codex::TurnOptions to;
    auto h = co_await t.turn("x", to);
    auto s = h.stream();
    for (;;) {
      auto ev = co_await s.next(ms(10000));
      if (!ev || ev->method == "item/agentMessage/delta") break;
    }
    // A consumer waiting for the next event when the client closes.
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          try {
            unexpected = co_await s.next(ms(20000));
          } catch (...) {
            pending_err = std::current_exception();
          }
          reader_done = true;
        },
        asio::detached);
    auto t0 = steady::now();
    co_await client.close();
    close_took = steady::now() - t0;
    (void)co_await eventually([&] { return reader_done; });
    codex::ModelsOptions mo;
    after_close = co_await error_of(client.models(mo));
  }());
  REQUIRE(reader_done);
  INFO(what_of(pending_err));
  CHECK(!unexpected);
  CHECK(as<codex::TransportClosedError>(pending_err));
  CHECK(as<codex::TransportClosedError>(after_close));
  CHECK(close_took < 3s);
  CHECK(process_gone(pid));
  CHECK(fake_children().count(pid) == 0);
}

TEST_CASE("sync close() ends a stream blocked in another thread and ends the process",
          "[faults][close][sync]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},
      {"turn":{"deltas":["x"],"complete":false}}]}})");
  const auto before = fake_children();
  std::optional<codex::Codex> client;
  client.emplace(fake.config());
  const int pid = new_child(before);
  auto t = client->thread_start();
  auto h = t.turn("x");
  auto s = h.stream();
  for (;;) {
    auto ev = s.next(ms(10000));
    if (!ev || ev->method == "item/agentMessage/delta") break;
  }
  std::atomic<bool> finished{false};
  std::exception_ptr err;
  // snippet-begin: cancel_sync_close
  std::thread reader([&] {
    try {
      (void)s.next(ms(20000));
    } catch (...) {
      err = std::current_exception();
    }
    finished = true;
  });
  client->close();
  reader.join();
  // snippet-end: cancel_sync_close
  CHECK(finished);
  INFO(what_of(err));
  CHECK(as<codex::TransportClosedError>(err));
  CHECK(process_gone(pid));
  CHECK_THROWS_AS(client->models(), codex::TransportClosedError);
  client.reset();
}

TEST_CASE("destroying a client that was not closed kills the process", "[faults][close]") {
  Watchdog wd;
  Fake fake;
  const auto before = fake_children();
  int pid = -1;
  {
    asio::io_context ioc;
    codex::AsyncCodex client(ioc.get_executor(), fake.config());
    run_async(ioc, [&]() -> asio::awaitable<void> {
      co_await client.start();
      pid = new_child(before);
    }());
  }
  CHECK(pid > 0);
  CHECK(process_gone(pid));
}
