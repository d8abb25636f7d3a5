// The turn inactivity watchdog (CodexConfig::turn_inactivity_timeout) and the recovery of a turn
// whose turn/start was cancelled in flight (AsyncThread::last_turn / Thread::last_turn), against
// the scripted fake app-server.
#include "fake_fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <optional>
#include <variant>

namespace {

using namespace itest;

/// A turn that starts, streams one delta and then stays silent (never completes by itself).
/// `thread/read` answers with the turn in `read_status`.
std::string silent_turn_script(const std::string& read_status) {
  return R"({"on":{
    "turn/start":[[{"default":"response"},{"turn":{"deltas":["a"],"complete":false}}]],
    "thread/read":[[{"respond":{"thread":{"id":"$params.threadId","turns":[
      {"id":"turn_1","status":")" +
         read_status + R"(","items":[],"error":null,
       "startedAt":1700000000,"completedAt":1700000001,"durationMs":1000}]}}}]]}})";
}

template <class E, class T>
asio::awaitable<std::optional<E>> error_as(asio::awaitable<T> aw) {
  try {
    (void)co_await std::move(aw);
  } catch (const E& e) {
    co_return e;
  }
  co_return std::nullopt;
}

}  // namespace

TEST_CASE("turn watchdog: a silent running turn raises TurnStalledError and the stream goes on",
          "[watchdog]") {
  Watchdog wd;
  Fake fake(silent_turn_script("inProgress"));
  auto cfg = fake.config();
  cfg.turn_inactivity_timeout = 300ms;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  std::optional<codex::TurnStalledError> first, second;
  ms first_after{0};
  std::vector<std::string> methods;
  codex::TurnResult result;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("hi", to);
    auto s = h.stream();
    // Read up to the delta; then the turn is silent.
    for (;;) {
      auto ev = co_await s.next(5s);
      REQUIRE(ev);
      methods.push_back(ev->method);
      if (ev->method == "item/agentMessage/delta") break;
    }
    const auto t0 = steady::now();
    first = co_await error_as<codex::TurnStalledError>(s.next(10s));
    first_after = std::chrono::duration_cast<ms>(steady::now() - t0);
    // The stream stays usable and the watchdog re-arms.
    second = co_await error_as<codex::TurnStalledError>(s.next(10s));
    co_await h.interrupt();
    while (auto ev = co_await s.next(5s))
      methods.push_back(ev->method);
    result = s.result();
    co_await client.close();
  }());

  REQUIRE(first);
  CHECK(first->turn_id() == "turn_1");
  CHECK(first->thread_id() == "thr_1");
  CHECK(first->server_status() == "inProgress");
  CHECK(first->detail().empty());
  CHECK(first->silent_for() >= 300ms);
  CHECK(first_after >= 250ms);
  CHECK(std::string(first->what()).find("inProgress") != std::string::npos);
  REQUIRE(second);
  CHECK(second->server_status() == "inProgress");
  // Each stall was reconciled with the server: thread/read with the turns.
  auto reads = fake.requests("thread/read");
  REQUIRE(reads.size() == 2);
  CHECK(reads[0].at("params").at("threadId") == "thr_1");
  CHECK(reads[0].at("params").at("includeTurns") == true);
  // A stall is a kind of timeout.
  CHECK(dynamic_cast<const codex::TimeoutError*>(&*first) != nullptr);
  CHECK(result.status == codex::TurnStatus::interrupted);
  CHECK(methods.back() == "turn/completed");
}

TEST_CASE("turn watchdog: a turn whose turn/completed never came completes from thread/read",
          "[watchdog]") {
  Watchdog wd;
  Fake fake(silent_turn_script("completed"));
  auto cfg = fake.config();
  cfg.turn_inactivity_timeout = 200ms;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  codex::TurnResult result;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    result = co_await t.run("hi", to);
    co_await client.close();
  }());
  CHECK(result.id == "turn_1");
  CHECK(result.status == codex::TurnStatus::completed);
  CHECK(result.completed_at == 1700000001);
  CHECK(fake.requests("thread/read").size() == 1);
}

TEST_CASE("turn watchdog: a failed thread/read is reported in the stall", "[watchdog]") {
  Watchdog wd;
  Fake fake(R"({"on":{
    "turn/start":[[{"default":"response"},{"turn":{"complete":false}}]],
    "thread/read":[[{"error":{"code":-32600,"message":"thread not loaded"}}]]}})");
  auto cfg = fake.config();
  cfg.turn_inactivity_timeout = 200ms;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  std::optional<codex::TurnStalledError> stall;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("hi", to);
    stall = co_await error_as<codex::TurnStalledError>(h.collect());
    co_await client.close();
  }());
  REQUIRE(stall);
  CHECK(stall->server_status().empty());
  CHECK(stall->detail().find("thread not loaded") != std::string::npos);
}

TEST_CASE("turn watchdog: off by default (a plain TimeoutError and no thread/read)", "[watchdog]") {
  Watchdog wd;
  Fake fake(silent_turn_script("inProgress"));
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::exception_ptr err;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("hi", to);
    auto s = h.stream();
    try {
      for (;;)
        if (!co_await s.next(400ms)) break;
    } catch (...) {
      err = std::current_exception();
    }
    co_await client.close();
  }());
  REQUIRE(err);
  bool timeout = false, stalled = false;
  try {
    std::rethrow_exception(err);
  } catch (const codex::TurnStalledError&) {
    stalled = true;
  } catch (const codex::TimeoutError&) {
    timeout = true;
  } catch (...) {
  }
  CHECK(timeout);
  CHECK_FALSE(stalled);
  CHECK(fake.requests("thread/read").empty());
}

namespace {
// turn/start answered late: the fake pauses before answering (the client's cancel lands first).
constexpr const char* kLateStart = R"({"on":{
  "turn/start":[[{"sleep_ms":400},{"default":"response"},{"turn":{"deltas":["x"],"complete":false}}]]}})";
}  // namespace

TEST_CASE("a turn/start cancelled in flight: last_turn() hands over the turn to interrupt",
          "[cancel][last_turn]") {
  using namespace boost::asio::experimental::awaitable_operators;
  Watchdog wd;
  Fake fake(kLateStart);
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  bool cancelled_first = false;
  std::optional<codex::AsyncTurnHandle> none_before;
  std::string last_id;
  codex::TurnResult result;
  bool client_usable = false;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    none_before = co_await t.last_turn();
    asio::steady_timer timer(co_await asio::this_coro::executor, 50ms);
    codex::TurnOptions to;
    auto start = t.turn("hi", to);
    auto tick = timer.async_wait(asio::use_awaitable);
    auto raced = co_await (std::move(start) || std::move(tick));
    cancelled_first = raced.index() == 1;
    // The caller stopped waiting; the request goes on and its turn is recorded.
    auto h = co_await t.last_turn();
    REQUIRE(h);
    last_id = h->id();
    co_await h->interrupt();
    result = co_await h->collect();
    auto models = co_await client.models();
    client_usable = models.contains("data");
    co_await client.close();
  }());
  CHECK(!none_before);
  CHECK(cancelled_first);
  CHECK(last_id == "turn_1");
  CHECK(result.status == codex::TurnStatus::interrupted);
  CHECK(client_usable);
  CHECK(fake.requests("turn/interrupt").size() == 1);
}

TEST_CASE("sync client: a turn/start that timed out is recovered with last_turn()",
          "[cancel][last_turn][sync]") {
  Watchdog wd;
  Fake fake(kLateStart);
  codex::Codex client(fake.config());
  auto t = client.thread_start();
  codex::TurnOptions to;
  to.timeout = 50ms;
  CHECK_THROWS_AS(t.turn("hi", to), codex::TimeoutError);
  codex::CallOptions wait;
  wait.timeout = 10s;
  auto h = t.last_turn(wait);
  REQUIRE(h);
  CHECK(h->id() == "turn_1");
  h->interrupt();
  auto r = h->collect();
  CHECK(r.status == codex::TurnStatus::interrupted);
  client.close();
}

TEST_CASE("a first call cancelled while the server starts leaves the client usable",
          "[cancel][start]") {
  using namespace boost::asio::experimental::awaitable_operators;
  Watchdog wd;
  // initialize is answered late: the caller's cancel lands while the server starts.
  Fake fake(R"({"on":{"initialize":[[{"sleep_ms":300},{"default":true}]]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  bool cancelled_first = false;
  std::string thread_id;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 30ms);
    codex::ThreadStartOptions so;
    auto first = client.thread_start(so);
    auto tick = timer.async_wait(asio::use_awaitable);
    auto raced = co_await (std::move(first) || std::move(tick));
    cancelled_first = raced.index() == 1;
    // The start went on without that caller: the next call uses it.
    codex::ThreadStartOptions again;
    auto t = co_await client.thread_start(again);
    thread_id = t.id();
    co_await client.close();
  }());
  CHECK(cancelled_first);
  CHECK(!thread_id.empty());
  CHECK(fake.requests("initialize").size() == 1);  // started once
}
