// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// End-to-end, coroutine client (`codex::AsyncCodex` on an io_context, `co_await`) against the
// real pinned `codex app-server`. Every body runs through `run_async`, which fails on a hang.
//
// GCC 12: no braced-init temporaries inside `co_await` expressions (they are hoisted to locals).

#include "e2e_fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

using namespace e2e;
using namespace boost::asio::experimental::awaitable_operators;
using codex::TurnStatus;

namespace {

const std::string kFiveChunks = "Hello there, this reply is streamed in five chunks.";

/// Reads a whole turn through its stream (every read bounded).
asio::awaitable<Seen> consume(codex::AsyncTurnHandle h) {
  Seen seen;
  auto stream = h.stream();
  while (auto ev = co_await stream.next(kEventWait))
    seen.events.push_back(std::move(*ev));
  co_return seen;
}

// snippet-begin: cancel_within
/// `op`, or nullopt when `limit` passes first (then `op` is cancelled).
template <class T>
asio::awaitable<std::optional<T>> within(asio::awaitable<T> op, std::chrono::milliseconds limit) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(limit);
  auto r = co_await (std::move(op) || timer.async_wait(asio::use_awaitable));
  if (r.index() == 0) co_return std::get<0>(std::move(r));
  co_return std::nullopt;
}
// snippet-end: cancel_within

/// Waits for the thread's `thread/status/changed` to `idle` (a client-level event), then makes one
/// request round trip, so the turn's `turn/completed` (sent right after `idle`) has been routed.
asio::awaitable<void> wait_until_idle(codex::AsyncCodex& codex, codex::AsyncThread& thread) {
  for (;;) {
    auto n = co_await codex.next_event(kEventWait);
    if (n.method != "thread/status/changed" || n.thread_id() != thread.id()) continue;
    const auto* status = obj_at(n.params, {"status"});
    if (status && str(*status, "type") == "idle") break;
  }
  co_await thread.read();
}

void check_routed_to(const Seen& seen, const std::string& turn_id, const std::string& thread_id) {
  for (const auto& ev : seen.events) {
    INFO("event " << ev.method);
    CHECK(ev.turn_id() == turn_id);
    if (!ev.thread_id().empty()) CHECK(ev.thread_id() == thread_id);
  }
}

}  // namespace

TEST_CASE(
    "async stream and run: 5 deltas, concatenation equals the final item, one "
    "turn/completed",
    "[e2e][async][stream]") {
  AsyncEnv e;
  e.server.enqueue(Response::message(kFiveChunks, {.deltas = 5}));
  e.server.enqueue(Response::message(kFiveChunks, {.deltas = 5}));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<void> {
    auto thread = co_await codex.thread_start();

    // stream()
    auto h = co_await thread.turn("Say hello.");
    CHECK(h.thread_id() == thread.id());
    Seen seen = co_await consume(h);
    CHECK(seen.deltas().size() == 5);
    CHECK(seen.delta_text() == kFiveChunks);
    CHECK(seen.agent_texts() == std::vector<std::string>{kFiveChunks});
    CHECK(seen.count("turn/completed") == 1);
    CHECK(!seen.events.empty());
    if (!seen.events.empty()) CHECK(seen.events.back().method == "turn/completed");
    CHECK(seen.completed_status() == "completed");
    check_routed_to(seen, h.id(), thread.id());

    // run() with an observer
    Seen observed;
    codex::TurnOptions opts;
    auto r = co_await thread.run("Again.", std::move(opts), record_into(observed));
    CHECK(r.status == TurnStatus::completed);
    CHECK(r.final_response == std::optional<std::string>(kFiveChunks));
    CHECK(observed.deltas().size() == 5);
    CHECK(observed.delta_text() == kFiveChunks);
    CHECK(observed.count("turn/completed") == 1);
    CHECK(r.id != h.id());

    co_await codex.close();
  };
  run_async(e.ioc, body());

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].last_user_text() == std::optional<std::string>("Say hello."));
  CHECK(reqs[1].last_user_text() == std::optional<std::string>("Again."));
}

TEST_CASE("the newcomer program works with co_await", "[e2e][async][newcomer]") {
  AsyncEnv e;
  e.server.enqueue(Response::message("Hello from async!"));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<std::optional<std::string>> {
    auto t = co_await codex.thread_start();
    auto r = co_await t.run("Say hello");
    CHECK(str(t.response(), "approvalPolicy") == "on-request");
    CHECK(str(t.response(), "approvalsReviewer") == "auto_review");
    co_await codex.close();
    co_return r.final_response;
  };
  CHECK(run_async(e.ioc, body()) == std::optional<std::string>("Hello from async!"));
}

TEST_CASE("async metadata: server_version 0.169.0 and a user agent after start()",
          "[e2e][async][metadata]") {
  AsyncEnv e;
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());
  CHECK_THROWS_AS(codex.metadata(), codex::CodexError);

  auto body = [&]() -> asio::awaitable<void> {
    // Concurrent first calls start the server once.
    co_await (codex.start() && codex.start());
  };
  run_async(e.ioc, body());
  const auto& md = codex.metadata();
  CHECK(md.server_version == "0.169.0");
  CHECK(md.user_agent.rfind("codex_cpp_sdk/0.169.0", 0) == 0);
  CHECK(!md.server_name.empty());
  CHECK(md.platform_os == std::optional<std::string>("linux"));
  REQUIRE(md.codex_home.has_value());
  CHECK(fs::equivalent(*md.codex_home, e.codex_home()));
  CHECK(app_server_pids(e.codex_home()).size() == 1);

  auto done = [&]() -> asio::awaitable<void> { co_await codex.close(); };
  run_async(e.ioc, done());
}

TEST_CASE("async: two concurrent turns on two threads in two coroutines stay separate",
          "[e2e][async][concurrency]") {
  AsyncEnv e;
  const std::string a_text = "AAAA aaaa AAAA aaaa AAAA aaaa";
  const std::string b_text = "BBBB bbbb BBBB bbbb BBBB bbbb";
  e.server.enqueue(Response::message(a_text, {.deltas = 6}).hold_after_deltas("a", 1));
  e.server.enqueue(Response::message(b_text, {.deltas = 6}).hold_after_deltas("b", 1));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<void> {
    auto ta = co_await codex.thread_start();
    auto tb = co_await codex.thread_start();
    auto ha = co_await ta.turn("Thread A.");
    REQUIRE(e.server.wait_until_held("a", kServerWait));
    auto hb = co_await tb.turn("Thread B.");
    REQUIRE(e.server.wait_until_held("b", kServerWait));
    CHECK(ha.id() != hb.id());

    // Both consumers are waiting before the streams go on.
    auto release = [&]() -> asio::awaitable<bool> {
      e.server.release("a");
      e.server.release("b");
      co_return true;
    };
    auto [seen_a, seen_b, released] = co_await (consume(ha) && consume(hb) && release());
    CHECK(released);

    check_routed_to(seen_a, ha.id(), ta.id());
    check_routed_to(seen_b, hb.id(), tb.id());
    CHECK(seen_a.delta_text() == a_text);
    CHECK(seen_b.delta_text() == b_text);
    CHECK(seen_a.count("turn/completed") == 1);
    CHECK(seen_b.count("turn/completed") == 1);
    CHECK(seen_a.completed_status() == "completed");
    CHECK(seen_b.completed_status() == "completed");
    co_await codex.close();
  };
  run_async(e.ioc, body());

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].last_user_text() == std::optional<std::string>("Thread A."));
  CHECK(reqs[1].last_user_text() == std::optional<std::string>("Thread B."));
}

TEST_CASE("async: an open turn stream does not block a concurrent models() call",
          "[e2e][async][stream]") {
  AsyncEnv e;
  e.server.enqueue(Response::message("Held while the catalog is read.", {.deltas = 3})
                       .hold_after_deltas("held", 1));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<void> {
    auto t = co_await codex.thread_start();
    auto h = co_await t.turn("Hold on.");
    REQUIRE(e.server.wait_until_held("held", kServerWait));
    auto list_then_release = [&]() -> asio::awaitable<std::size_t> {
      codex::ModelsOptions opts;
      auto models = co_await codex.models(std::move(opts));
      e.server.release("held");
      const auto* data = models.if_contains("data");
      co_return data && data->is_array() ? data->get_array().size() : 0;
    };
    auto [seen, n_models] = co_await (consume(h) && list_then_release());
    CHECK(n_models > 0);
    CHECK(seen.delta_text() == "Held while the catalog is read.");
    CHECK(seen.completed_status() == "completed");
    co_await codex.close();
  };
  run_async(e.ioc, body());
}

TEST_CASE("async steer and interrupt, the thread stays usable", "[e2e][async][steer][interrupt]") {
  AsyncEnv e;
  e.server.enqueue(
      Response::message("one two three four five six seven eight nine ten", {.deltas = 10})
          .hold_after_deltas("steer", 1));
  e.server.enqueue(Response::message("eleven"));
  e.server.enqueue(Response::message("slow words slow words slow words", {.deltas = 6})
                       .hold_after_deltas("int", 1));
  e.server.enqueue(Response::message("Back again.", {.deltas = 2}));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<void> {
    auto thread = co_await codex.thread_start();

    // steer
    auto h1 = co_await thread.turn("Slow one.");
    REQUIRE(e.server.wait_until_held("steer", kServerWait));
    codex::Input steer_text("Also mention eleven.");
    auto steered = co_await h1.steer(std::move(steer_text));
    CHECK(str(steered, "turnId") == h1.id());
    e.server.release("steer");
    Seen seen1;
    auto r1 = co_await h1.run(record_into(seen1));
    CHECK(r1.status == TurnStatus::completed);
    CHECK(r1.final_response == std::optional<std::string>("eleven"));
    CHECK(seen1.count("turn/completed") == 1);

    // interrupt
    auto h2 = co_await thread.turn("Talk slowly.");
    REQUIRE(e.server.wait_until_held("int", kServerWait));
    auto ir = co_await h2.interrupt();
    CHECK(ir.empty());
    auto r2 = co_await h2.run();
    e.server.release("int");
    CHECK(r2.status == TurnStatus::interrupted);
    CHECK(!r2.error);

    // still usable
    auto r3 = co_await thread.run("Again, quickly.");
    CHECK(r3.status == TurnStatus::completed);
    CHECK(r3.final_response == std::optional<std::string>("Back again."));
    co_await codex.close();
  };
  run_async(e.ioc, body());

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 4);
  CHECK(texts_contain(reqs[1], "Also mention eleven."));
  CHECK(reqs[3].last_user_text() == std::optional<std::string>("Again, quickly."));
}

TEST_CASE(
    "async: cancelling run() only stops watching, the turn goes on and collect() on the same "
    "handle returns its result",
    "[e2e][async][cancel]") {
  AsyncEnv e;
  e.server.enqueue(Response::message("Finished without a watcher.", {.deltas = 3})
                       .hold_after_deltas("watch", 1));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<void> {
    // snippet-begin: cancel_stop_watching
    auto thread = co_await codex.thread_start();
    auto h = co_await thread.turn("Go on without me.");
    auto held = [&]() -> asio::awaitable<void> {
      REQUIRE(e.server.wait_until_held("watch", kServerWait));
      co_return;
    };
    // run() is suspended waiting for events; `held()` finishes first and cancels it.
    auto first = co_await (h.run() || held());
    CHECK(first.index() == 1);

    // The turn goes on and completes while nobody watches it.
    e.server.release("watch");
    co_await wait_until_idle(codex, thread);

    auto r = co_await within(h.collect(), 10s);
    INFO(
        "collect() on the same handle must return the completed turn (it hung: the turn's "
        "events, turn/completed included, were dropped after its only stream closed)");
    REQUIRE(r.has_value());
    CHECK(r->status == TurnStatus::completed);
    CHECK(r->id == h.id());
    // snippet-end: cancel_stop_watching
    co_await codex.close();
  };
  run_async(e.ioc, body());
}

TEST_CASE("async: after a cancelled run(), interrupt() ends the turn and collect() reports it",
          "[e2e][async][cancel]") {
  AsyncEnv e;
  e.server.enqueue(
      Response::message("Never finished.", {.deltas = 4}).hold_after_deltas("cancel-int", 1));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<void> {
    auto thread = co_await codex.thread_start();
    auto h = co_await thread.turn("Stop me later.");
    auto held = [&]() -> asio::awaitable<void> {
      REQUIRE(e.server.wait_until_held("cancel-int", kServerWait));
      co_return;
    };
    // snippet-begin: cancel_interrupt_after_stop
    auto first = co_await (h.run() || held());
    CHECK(first.index() == 1);

    auto ir = co_await h.interrupt();
    CHECK(ir.empty());
    co_await wait_until_idle(codex, thread);
    e.server.release("cancel-int");

    auto r = co_await within(h.collect(), 10s);
    INFO("collect() after interrupt() must return the interrupted turn");
    REQUIRE(r.has_value());
    CHECK(r->status == TurnStatus::interrupted);
    // snippet-end: cancel_interrupt_after_stop
    co_await codex.close();
  };
  run_async(e.ioc, body());
}

TEST_CASE("async failed turns: run() throws TurnFailedError, collect() returns failed",
          "[e2e][async][errors]") {
  AsyncEnv e;
  e.server.enqueue(Response::http_error(500));
  e.server.enqueue(Response::message("Recovered."));
  e.server.enqueue(Response::rate_limited());
  e.server.enqueue(Response::message("Recovered again."));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<void> {
    auto thread = co_await codex.thread_start();

    bool threw = false;
    try {
      co_await thread.run("This will fail.");
    } catch (const codex::TurnFailedError& err) {
      threw = true;
      CHECK(err.result().status == TurnStatus::failed);
      CHECK(err.error().kind() == "internalServerError");
      CHECK(err.error().message.find("experiencing high demand") != std::string::npos);
    }
    CHECK(threw);
    auto ok1 = co_await thread.run("Recover.");
    CHECK(ok1.final_response == std::optional<std::string>("Recovered."));

    auto h = co_await thread.turn("This will fail too.");
    auto failed = co_await h.collect();
    CHECK(failed.status == TurnStatus::failed);
    REQUIRE(failed.error.has_value());
    CHECK(failed.error->kind() == "responseTooManyFailedAttempts");
    CHECK(failed.error->http_status_code() == std::optional<std::int64_t>(429));
    auto ok2 = co_await thread.run("Recover again.");
    CHECK(ok2.status == TurnStatus::completed);
    CHECK(ok2.final_response == std::optional<std::string>("Recovered again."));
    co_await codex.close();
  };
  run_async(e.ioc, body());
}

TEST_CASE("async process lifecycle: close() ends the child, later calls fail",
          "[e2e][async][process]") {
  AsyncEnv e;
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());
  pid_t pid = 0;
  auto start = [&]() -> asio::awaitable<void> { co_await codex.thread_start(); };
  run_async(e.ioc, start());
  pid = the_app_server_pid(e.codex_home());

  // snippet-begin: cancel_close
  auto close = [&]() -> asio::awaitable<void> { co_await codex.close(); };
  run_async(e.ioc, close());
  CHECK(process_state(pid) == "gone");

  auto after = [&]() -> asio::awaitable<bool> {
    try {
      co_await codex.thread_start();
    } catch (const codex::TransportClosedError&) {
      co_return true;
    }
    co_return false;
  };
  CHECK(run_async(e.ioc, after(), 5s));
  // snippet-end: cancel_close
}

TEST_CASE("async process lifecycle: SIGKILL mid-turn fails the pending run() (exit 137)",
          "[e2e][async][process]") {
  AsyncEnv e;
  e.server.enqueue(
      Response::message("this reply never finishes", {.deltas = 4}).hold_after_deltas("kill", 1));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  auto body = [&]() -> asio::awaitable<std::optional<int>> {
    auto thread = co_await codex.thread_start();
    const pid_t pid = the_app_server_pid(e.codex_home());
    auto h = co_await thread.turn("Run until killed.");

    auto pending_run = [&]() -> asio::awaitable<std::optional<int>> {
      try {
        co_await h.run();
      } catch (const codex::TransportClosedError& err) {
        co_return err.exit_status().value_or(-1);
      }
      co_return std::nullopt;
    };
    auto killer = [&]() -> asio::awaitable<void> {
      // Runs once pending_run() is suspended waiting for the turn's events.
      REQUIRE(e.server.wait_until_held("kill", kServerWait));
      REQUIRE(::kill(pid, SIGKILL) == 0);
      co_return;
    };
    auto status = co_await (pending_run() && killer());
    e.server.release("kill");

    bool later_failed = false;
    try {
      co_await thread.run("Anyone there?");
    } catch (const codex::TransportClosedError&) {
      later_failed = true;
    }
    CHECK(later_failed);
    CHECK(process_state(pid) == "gone");
    co_return status;
  };
  auto status = run_async(e.ioc, body());
  INFO("a run() that does not fail with TransportClosedError yields nullopt");
  CHECK(status == std::optional<int>(137));
}
