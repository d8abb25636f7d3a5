// Reliability against the real app-server: the turn inactivity watchdog on a model that goes
// silent, a turn/start cancelled in flight and recovered with last_turn(), and interrupt() sent
// before the server's turn/started.
#include "e2e_fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <optional>

using namespace e2e;

TEST_CASE("watchdog: a model gone silent makes a typed stall and the turn then completes",
          "[e2e][async][watchdog]") {
  AsyncEnv e;
  const std::string text = "one two three four";
  e.server.enqueue(Response::message(text, {.deltas = 4}).hold_after_deltas("silent", 1));
  auto cfg = e.config();
  cfg.turn_inactivity_timeout = 1500ms;
  codex::AsyncCodex codex(e.ioc.get_executor(), cfg);
  std::optional<codex::TurnStalledError> stall;
  Seen seen;
  std::string turn_id;
  codex::TurnResult result;
  auto body = [&]() -> asio::awaitable<void> {
    auto t = co_await codex.thread_start();
    auto h = co_await t.turn("Go quiet.");
    turn_id = h.id();
    REQUIRE(e.server.wait_until_held("silent", kServerWait));
    auto s = h.stream();
    for (;;) {
      try {
        auto ev = co_await s.next(20s);
        if (!ev) break;
        seen.events.push_back(std::move(*ev));
      } catch (const codex::TurnStalledError& x) {
        REQUIRE(!stall);  // one stall: the model is released right after it
        stall = x;
        e.server.release("silent");
      }
    }
    result = s.result();
    co_await codex.close();
  };
  run_async(e.ioc, body());
  REQUIRE(stall);
  CHECK(stall->turn_id() == turn_id);
  CHECK(stall->server_status() == "inProgress");
  CHECK(stall->silent_for() >= 1500ms);
  CHECK(result.status == codex::TurnStatus::completed);
  CHECK(seen.delta_text() == text);
}

TEST_CASE("a turn/start cancelled in flight: last_turn() interrupts the turn it started",
          "[e2e][async][cancel]") {
  using namespace boost::asio::experimental::awaitable_operators;
  AsyncEnv e;
  e.server.enqueue(Response::message("never finished", {.deltas = 3}).hold_after_deltas("run", 1));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());
  bool cancelled = false;
  std::optional<codex::AsyncTurnHandle> last;
  codex::TurnResult result;
  std::string after;
  auto body = [&]() -> asio::awaitable<void> {
    auto t = co_await codex.thread_start();
    // The timer wins: turn() is cancelled right after it sent turn/start.
    asio::steady_timer now(co_await asio::this_coro::executor, 0ms);
    auto start = t.turn("Start and be cancelled.");
    auto tick = now.async_wait(asio::use_awaitable);
    auto raced = co_await (std::move(start) || std::move(tick));
    cancelled = raced.index() == 1;
    last = co_await t.last_turn();
    REQUIRE(last);
    REQUIRE(e.server.wait_until_held("run", kServerWait));
    co_await last->interrupt();
    result = co_await last->collect();
    e.server.release("run");
    // The thread and the client stay usable.
    e.server.enqueue(Response::message("after"));
    auto r = co_await t.run("Again.");
    after = r.final_response.value_or("");
    co_await codex.close();
  };
  run_async(e.ioc, body());
  CHECK(cancelled);
  CHECK(result.status == codex::TurnStatus::interrupted);
  CHECK(after == "after");
}

TEST_CASE("interrupt() right after turn() waits for the server's turn/started",
          "[e2e][sync][interrupt]") {
  Env e;
  e.server.enqueue(Response::message("slow answer", {.deltas = 3}).hold_after_deltas("slow", 1));
  codex::Codex codex(e.config());
  auto t = codex.thread_start();
  auto h = t.turn("Interrupt me at once.");
  h.interrupt();  // before turn/started: the server would refuse it
  auto r = h.collect();
  CHECK(r.status == codex::TurnStatus::interrupted);
  e.server.release("slow");
  codex.close();
}

TEST_CASE("sync reconnect(): a new app-server process, the thread resumed by id",
          "[e2e][sync][reconnect]") {
  Env e;
  e.server.enqueue(Response::message("first answer"));
  e.server.enqueue(Response::message("second answer"));
  codex::Codex codex(e.config());
  auto t = codex.thread_start();
  CHECK(t.run("Say first.").final_response == std::optional<std::string>("first answer"));
  const auto pids_before = app_server_pids(e.codex_home());
  codex.reconnect();
  const auto pids_after = app_server_pids(e.codex_home());
  CHECK(pids_before.size() == 1);
  CHECK(pids_after.size() == 1);
  CHECK(pids_after != pids_before);  // a new process; the old one ended
  // Nothing is replayed: the old connection's thread handle fails.
  CHECK_THROWS_AS(t.read(), codex::TransportClosedError);
  auto again = codex.thread_resume(t.id());
  CHECK(again.run("Say second.").final_response == std::optional<std::string>("second answer"));
  codex.close();
  CHECK_THROWS_AS(codex.reconnect(), codex::TransportClosedError);
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].body.find("Say first.") != std::string::npos);
}
