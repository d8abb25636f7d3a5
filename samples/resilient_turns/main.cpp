// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// resilient_turns — getting a turn back under control (C++ only).
//
// Three things that go wrong in a long-running program, handled on one AsyncCodex and one
// io_context:
//   1. the model goes silent mid-turn: the turn inactivity watchdog
//      (`CodexConfig::turn_inactivity_timeout`) asks the server about the turn, finds it still
//      running, and `next()` throws `TurnStalledError`; the program interrupts the turn;
//   2. a `turn()` is cancelled while its `turn/start` is in flight: the server starts the turn
//      anyway, `last_turn()` hands it over, and the program interrupts it;
//   3. the connection is replaced with `reconnect()` (a new app-server process), and the thread
//      is resumed by id (`thread_resume()`) for a new turn.
// Offline, the scripted model holds its answers (gates) to play a model that stops talking.
//
//   resilient_turns [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <iostream>
#include <optional>

namespace {

namespace asio = boost::asio;
namespace samples = codex::samples;
using namespace std::chrono_literals;
using codex::testing::Response;

constexpr const char* kSilentPrompt = "Summarize the build log.";
constexpr const char* kCancelledPrompt = "Refactor the parser.";
constexpr const char* kAfterPrompt = "Which two turns did I interrupt?";
constexpr const char* kAfterAnswer = "The build log summary and the parser refactoring.";

/// Offline: let a held answer go on (a no-op online).
void release(samples::SampleEnv& env, const std::string& gate) {
  if (auto* model = env.model()) model->release(gate);
}

/// What the three parts saw.
struct Outcome {
  std::optional<codex::TurnStalledError> stall;
  codex::TurnStatus silent_status = codex::TurnStatus::unknown;
  bool start_cancelled = false;
  std::string recovered_id;
  codex::TurnStatus recovered_status = codex::TurnStatus::unknown;
  bool old_handle_fails = false;
  codex::TurnResult after;
};

/// 1. A turn whose model goes silent: the watchdog reports it, the program interrupts it.
asio::awaitable<void> silent_turn(samples::SampleEnv& env, codex::AsyncThread& thread,
                                  Outcome& out) {
  codex::Input prompt(kSilentPrompt);
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
  // snippet-begin: resilient_watchdog
  codex::AsyncTurnStream events = turn.stream();
  bool interrupted = false;
  for (;;) {
    try {
      if (!co_await events.next()) break;  // after turn/completed
      continue;
    } catch (const codex::TurnStalledError& e) {  // silent for turn_inactivity_timeout
      std::cout << "watchdog: turn " << e.turn_id() << " silent for " << e.silent_for().count()
                << " ms, server status: " << e.server_status() << "\n";
      out.stall = e;
    }
    // The stream stays usable: interrupt the turn, then read on to its turn/completed.
    if (!interrupted) co_await turn.interrupt();
    interrupted = true;
  }
  out.silent_status = events.result().status;
  // snippet-end: resilient_watchdog
  release(env, "silent");
  std::cout << "turn 1 ended: " << codex::to_string(out.silent_status) << "\n";
}

/// 2. A `turn()` cancelled while `turn/start` is in flight: `last_turn()` hands the turn over.
asio::awaitable<void> cancelled_start(samples::SampleEnv& env, codex::AsyncThread& thread,
                                      Outcome& out) {
  // snippet-begin: resilient_last_turn
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer now(co_await asio::this_coro::executor, 0ms);
  codex::Input prompt(kCancelledPrompt);
  auto start = thread.turn(std::move(prompt));
  auto tick = now.async_wait(asio::use_awaitable);
  auto first = co_await (std::move(start) || std::move(tick));  // cancels the loser
  out.start_cancelled = first.index() == 1;
  std::cout << "turn(): " << (out.start_cancelled ? "cancelled" : "returned")
            << " while turn/start was in flight\n";

  // The request went on without its caller; the turn it started is recorded on the thread.
  std::optional<codex::AsyncTurnHandle> turn = co_await thread.last_turn();
  if (!turn) co_return;  // no turn was started (the start failed)
  std::cout << "last_turn(): " << turn->id() << "\n";
  codex::AsyncTurnStream events = turn->stream();  // from the turn's first event
  bool interrupted = false;
  while (auto ev = co_await events.next()) {
    if (ev->method == "item/agentMessage/delta" && !interrupted) {
      co_await turn->interrupt();  // it is talking: stop it
      interrupted = true;
    }
  }
  out.recovered_status = events.result().status;
  // snippet-end: resilient_last_turn
  out.recovered_id = turn->id();
  release(env, "cancelled");
  std::cout << "turn 2 ended: " << codex::to_string(out.recovered_status) << "\n";
}

/// 3. A new connection, the thread resumed by id, and a new turn on it.
asio::awaitable<void> after_reconnect(codex::AsyncCodex& codex, codex::AsyncThread& thread,
                                      Outcome& out) {
  // snippet-begin: resilient_reconnect
  co_await codex.reconnect();  // a new app-server process, same config, initialized
  std::cout << "reconnected: " << codex.metadata().server_name << " "
            << codex.metadata().server_version << "\n";
  try {
    co_await thread.read();  // a handle of the old connection: nothing is replayed
  } catch (const codex::TransportClosedError& e) {
    std::cout << "old thread handle: TransportClosedError (" << e.what() << ")\n";
    out.old_handle_fails = true;
  }
  codex::AsyncThread resumed = co_await codex.thread_resume(thread.id());  // from CODEX_HOME
  codex::Input prompt(kAfterPrompt);
  out.after = co_await resumed.run(std::move(prompt));
  // snippet-end: resilient_reconnect
  std::cout << "resumed thread " << resumed.id() << ": " << codex::to_string(out.after.status)
            << ": " << samples::preview(out.after.final_response.value_or(""), 80) << "\n";
}

int run(samples::SampleEnv& env) {
  env.script(Response::message("The build failed in two places.", {.deltas = 4})
                 .hold_after_deltas("silent", 1));
  env.script(Response::message("Step one: split the tokenizer.", {.deltas = 4})
                 .hold_after_deltas("cancelled", 1));
  env.script(Response::message(kAfterAnswer, {.deltas = 2}));

  // snippet-begin: resilient_config
  codex::CodexConfig config = env.config();
  config.turn_inactivity_timeout = 2s;  // a turn read with no event for 2 s is checked
  // snippet-end: resilient_config

  asio::io_context ioc;
  codex::AsyncCodex codex(ioc.get_executor(), config);
  Outcome out;
  std::string thread_id;
  std::exception_ptr failure;
  auto all = [&]() -> asio::awaitable<void> {
    codex::AsyncThread thread = co_await codex.thread_start();
    thread_id = thread.id();
    std::cout << "thread " << thread_id << "\n";
    co_await silent_turn(env, thread, out);
    co_await cancelled_start(env, thread, out);
    co_await after_reconnect(codex, thread, out);
    co_await codex.close();
  };
  asio::co_spawn(ioc, all(), [&](std::exception_ptr e) { failure = e; });
  ioc.run();
  if (failure) std::rethrow_exception(failure);

  const bool offline = !env.online();
  if (offline) {
    samples::check(
        out.stall && out.stall->server_status() == "inProgress" && out.stall->silent_for() >= 2s,
        "the watchdog reported the silent turn, still inProgress on the server");
    samples::check(out.silent_status == codex::TurnStatus::interrupted,
                   "the silent turn was interrupted");
  }
  samples::check(out.start_cancelled, "turn() was cancelled while turn/start was in flight");
  samples::check(!out.recovered_id.empty(), "last_turn() handed over the turn it started");
  samples::check(out.recovered_status == codex::TurnStatus::interrupted || !offline,
                 "the recovered turn was interrupted");
  samples::check(out.old_handle_fails, "the old connection's handle fails after reconnect()");
  samples::check(out.after.status == codex::TurnStatus::completed,
                 "a new turn completed on the resumed thread");
  if (offline) {
    samples::check(out.after.final_response == std::optional<std::string>(kAfterAnswer),
                   "the resumed turn got the scripted answer");
    std::string texts;
    for (const auto& t : samples::last_model_request(*env.model()).input_texts())
      texts += t + "\n";
    samples::check(texts.find(kSilentPrompt) != std::string::npos &&
                       texts.find(kCancelledPrompt) != std::string::npos,
                   "the new server's model request carried the thread's history");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "resilient_turns", run);
}
