// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// docs/cancellation.md quotes this file: cancellation slots, deadlines, and the blocking client's
// ways to stop. Compiled in CI (target `readme_snippets`), never run there: with the default
// configuration they would use your real Codex login. The behaviour they rely on is tested in
// test/e2e/e2e_async_test.cpp, test/unit/engine_test.cpp and test/integration/faults_test.cpp.
#include <codex/codex.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <exception>
#include <future>
#include <iostream>
#include <optional>
#include <utility>

using namespace std::chrono_literals;

// snippet-begin: cancel_slot
/// Reads a turn to its end. The handle is a parameter, so the coroutine frame owns a copy.
boost::asio::awaitable<codex::TurnResult> read_to_end(codex::AsyncTurnHandle turn) {
  co_return co_await turn.collect();
}

/// Watches `turn` in the background until it ends or `stop` is emitted.
void watch(codex::AsyncCodex& codex, codex::AsyncTurnHandle turn,
           boost::asio::cancellation_signal& stop) {
  auto on_done = [](std::exception_ptr error, codex::TurnResult result) {
    if (error) return;  // system_error(operation_aborted) when `stop` came first; the turn goes on
    std::cout << "turn ended: " << codex::to_string(result.status) << "\n";
  };
  boost::asio::co_spawn(codex.get_executor(), read_to_end(std::move(turn)),
                        boost::asio::bind_cancellation_slot(stop.slot(), on_done));
}

/// From any thread: the signal, like the client, belongs to the client's executor.
void stop_watching(codex::AsyncCodex& codex, boost::asio::cancellation_signal& stop) {
  boost::asio::post(codex.get_executor(),
                    [&stop] { stop.emit(boost::asio::cancellation_type::terminal); });
}
// snippet-end: cancel_slot

boost::asio::awaitable<bool> deadlines(codex::AsyncThread& thread) {
  // snippet-begin: cancel_deadlines
  codex::TurnOptions options{.timeout = 10s};  // bounds the wait for turn/start, not the turn
  codex::Input prompt("Write the release notes.");
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt), std::move(options));

  codex::AsyncTurnStream events = turn.stream();
  bool quiet = false;
  try {
    while (auto ev = co_await events.next(30s)) {  // at most 30 s between two events
      if (ev->method == "item/agentMessage/delta") std::cout << ev->delta() << std::flush;
    }
  } catch (const codex::TimeoutError&) {  // "turn <id> stream: no answer within 30000 ms"
    quiet = true;
  }
  if (quiet) {
    codex::CallOptions quick{.timeout = 5s};
    co_await turn.interrupt(quick);  // a TimeoutError of its own after 5 s
    while (co_await events.next(30s)) {
      // the same stream goes on: the rest of the turn, up to turn/completed (interrupted)
    }
  }
  // snippet-end: cancel_deadlines
  co_return quiet;
}

codex::TurnStatus interrupt_from_another_thread(codex::Codex& codex,
                                                std::future<void> stop_requested) {
  // snippet-begin: cancel_sync_interrupt
  codex::Thread thread = codex.thread_start();
  codex::TurnHandle turn = thread.turn("Refactor the parser.");
  // A worker thread blocks in run(), on its own copy of the handle.
  std::future<codex::TurnResult> done =
      std::async(std::launch::async, [turn]() mutable { return turn.run(); });

  stop_requested.wait();  // a UI's "stop" button, a supervisor's deadline, ...
  try {
    turn.interrupt();
  } catch (const codex::InvalidRequestError&) {
    // "no active turn to interrupt": the turn has already ended
  }
  codex::TurnResult result = done.get();  // `interrupted` when the interrupt came in time
  // snippet-end: cancel_sync_interrupt
  return result.status;
}
