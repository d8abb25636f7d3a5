// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 11 cli_mini_app — twin of the Python SDK's examples/11_cli_mini_app.
//
// An interactive chat loop: read a line, run a turn on one thread, stream the answer, repeat;
// `quit`, `exit` or the end of input stops it. The coroutine form reads stdin asynchronously
// (a posix::stream_descriptor), so the client goes on handling events while it waits for you.
// Offline, the scripted model answers every line with "You said: <line>".
//
//   printf 'hi\nquit\n' | 11_cli_mini_app [--async]
//   11_cli_mini_app --online

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <unistd.h>

#include <iostream>

namespace {

namespace samples = codex::samples;
using codex::testing::Response;

/// Offline: queue the scripted model's answer to this line (ignored online).
void script_answer(samples::SampleEnv& env, const std::string& line) {
  env.script(Response::message("You said: " + line + ". I am a scripted model, so that is all.",
                               {.deltas = 4}));
}

bool is_quit(const std::optional<std::string>& line) {
  return !line || *line == "quit" || *line == "exit";
}

void prompt_user() {
  std::cout << "you> " << std::flush;
}

/// Piped input is not echoed by a terminal: show it, so the transcript reads well (and end the
/// prompt's line at the end of input).
void echo_if_piped(const std::optional<std::string>& line) {
  if (!line)
    std::cout << "\n";
  else if (!::isatty(STDIN_FILENO))
    std::cout << *line << "\n";
}

void print_delta(const codex::Notification& ev) {
  if (ev.method == "item/agentMessage/delta") std::cout << ev.delta() << std::flush;
}

void after_turn(const codex::TurnResult& r, int& turns, int& failures) {
  ++turns;
  if (r.status != codex::TurnStatus::completed) ++failures;
  std::cout << "\n   (" << codex::to_string(r.status);
  if (r.usage) std::cout << ", " << r.usage->last.total_tokens << " tokens";
  std::cout << ")\n";
}

int finish(int turns, int failures) {
  std::cout << "bye (" << turns << " turn(s))\n";
  samples::check(failures == 0, "every turn completed");
  return 0;
}

int sync_main(samples::SampleEnv& env) {
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();
  std::cout << "Chat with Codex (thread " << thread.id() << "). Type quit to exit.\n";
  int turns = 0, failures = 0;
  // snippet-begin: cli_mini_app_sync
  for (;;) {
    prompt_user();
    std::optional<std::string> line = samples::read_line();
    echo_if_piped(line);
    if (is_quit(line)) break;
    if (line->empty()) continue;
    script_answer(env, *line);
    std::cout << "assistant> ";
    // `collect` (not `run`): a failed turn is reported, and the chat goes on.
    codex::TurnResult r = thread.turn(*line).collect(print_delta);
    after_turn(r, turns, failures);
  }
  // snippet-end: cli_mini_app_sync
  return finish(turns, failures);
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread thread = co_await codex.thread_start();
  std::cout << "Chat with Codex (thread " << thread.id() << "). Type quit to exit.\n";
  int turns = 0, failures = 0;
  // snippet-begin: cli_mini_app_async
  samples::AsyncLineReader input(executor);  // after the app-server was spawned: see README.md
  codex::EventObserver on_event = print_delta;
  for (;;) {
    prompt_user();
    std::optional<std::string> line = co_await input.read_line();
    echo_if_piped(line);
    if (is_quit(line)) break;
    if (line->empty()) continue;
    script_answer(env, *line);
    std::cout << "assistant> ";
    codex::Input text(*line);
    codex::AsyncTurnHandle turn = co_await thread.turn(std::move(text));
    codex::TurnResult r = co_await turn.collect(on_event);
    after_turn(r, turns, failures);
  }
  // snippet-end: cli_mini_app_async
  co_await codex.close();
  co_return finish(turns, failures);
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "11_cli_mini_app", sync_main, async_main);
}
