// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 09 async_parity — twin of the Python SDK's examples/09_async_parity.
//
// The same flow (metadata, a thread, one turn, its ids and text) written three ways, printing
// the same lines:
//   * sync form:  with the blocking `codex::Codex`, then the very same coroutine as the async
//                 form, run on the blocking client's own I/O thread (`codex.executor()` +
//                 `codex.async_client()`) and waited for with a std::future;
//   * --async:    the coroutine on `codex::AsyncCodex` and the caller's io_context.
// The blocking client wraps the coroutine one, so both APIs are the same calls.
//
//   09_async_parity [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <boost/asio/use_future.hpp>

#include <future>
#include <iostream>
#include <string>

namespace {

namespace samples = codex::samples;
using codex::testing::Response;

constexpr const char* kAnswer = "Hello from the parity sample.";

void script(samples::SampleEnv& env) {
  env.script(Response::message(kAnswer, {.deltas = 3}));
  env.script(Response::message(kAnswer, {.deltas = 3}));
}

void print_flow(std::string_view how, const codex::InitializeResponse& md,
                const std::string& thread_id, const codex::TurnResult& result) {
  std::cout << "[" << how << "]\n"
            << "Server: " << md.server_name << " " << md.server_version << "\n"
            << "Thread: " << thread_id << "\n"
            << "Turn: " << result.id << "\n"
            << "Text: " << result.final_response.value_or("<none>") << "\n";
  samples::check(result.status == codex::TurnStatus::completed && result.final_response,
                 std::string(how) + ": the turn completed with a text");
}

// snippet-begin: async_parity_coroutine
/// The flow on an (already started or not) `AsyncCodex`; returns the turn's text.
boost::asio::awaitable<std::string> parity_flow(codex::AsyncCodex& codex, std::string how) {
  co_await codex.start();  // no-op when already started
  codex::AsyncThread thread = co_await codex.thread_start();
  codex::Input prompt("Say hello in one sentence.");
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
  codex::TurnResult result = co_await turn.run();
  print_flow(how, codex.metadata(), thread.id(), result);
  co_return result.final_response.value_or("");
}
// snippet-end: async_parity_coroutine

int sync_main(samples::SampleEnv& env) {
  script(env);
  // snippet-begin: async_parity_sync
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();
  codex::TurnHandle turn = thread.turn("Say hello in one sentence.");
  codex::TurnResult result = turn.run();
  print_flow("blocking Codex", codex.metadata(), thread.id(), result);

  // The same coroutine, on the blocking client's connection and I/O thread.
  std::future<std::string> text = boost::asio::co_spawn(
      codex.executor(), parity_flow(codex.async_client(), "coroutine on Codex::executor()"),
      boost::asio::use_future);
  const std::string bridged = text.get();
  // snippet-end: async_parity_sync
  samples::check(bridged == result.final_response.value_or("-"), "both ways give the same text");
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  auto executor = co_await boost::asio::this_coro::executor;
  // snippet-begin: async_parity_async
  codex::AsyncCodex codex(executor, env.config());
  const std::string text = co_await parity_flow(codex, "AsyncCodex");
  // snippet-end: async_parity_async
  samples::check(env.online() || text == kAnswer, "the coroutine gives the scripted text");
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "09_async_parity", sync_main, async_main);
}
