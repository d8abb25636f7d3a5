// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 02 turn_run — twin of the Python SDK's examples/02_turn_run.
//
// Starts a turn, reads it to its end with `run()`, and prints every field of the `TurnResult`:
// id, status, error, started_at, completed_at, duration_ms, final_response, items, usage and
// the raw `turn` object of `turn/completed`.
//
//   02_turn_run [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <iostream>
#include <type_traits>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using codex::testing::Response;

constexpr const char* kAnswer = "Structured plans turn big goals into small, checkable steps.";

void script(samples::SampleEnv& env) {
  env.script(Response::reasoning("The user wants one sentence about planning.", {.deltas = 2})
                 .then_message(kAnswer, {.deltas = 3})
                 .with_usage({.input_tokens = 321,
                              .cached_input_tokens = 64,
                              .output_tokens = 45,
                              .reasoning_output_tokens = 12}));
}

template <class T>
std::string opt(const std::optional<T>& v) {
  if (!v) return "<none>";
  if constexpr (std::is_same_v<T, std::string>)
    return '"' + *v + '"';
  else
    return std::to_string(*v);
}

// snippet-begin: turn_run_print
void print_result(const codex::TurnResult& r) {
  std::cout << "id:             " << r.id << "\n"
            << "status:         " << codex::to_string(r.status) << "\n"
            << "error:          "
            << (r.error ? r.error->message + " [" + r.error->kind() + "]" : "<none>") << "\n"
            << "started_at:     " << opt(r.started_at) << "\n"
            << "completed_at:   " << opt(r.completed_at) << "\n"
            << "duration_ms:    " << opt(r.duration_ms) << "\n"
            << "final_response: " << opt(r.final_response) << "\n"
            << "items:          " << r.items.size() << "\n";
  for (const json::object& item : r.items)
    std::cout << "  - " << samples::item_type(item) << " " << samples::str(item, "id") << "\n";
  if (r.usage) {
    std::cout << "usage.last:     " << samples::usage_line(r.usage->last) << "\n"
              << "usage.total:    " << samples::usage_line(r.usage->total) << "\n"
              << "context_window: " << opt(r.usage->model_context_window) << "\n";
  } else {
    std::cout << "usage:          <none>\n";
  }
  std::cout << "turn (raw):     status=" << samples::str(r.turn, "status")
            << " itemsView=" << samples::str(r.turn, "itemsView") << " keys=";
  for (const auto& kv : r.turn)
    std::cout << kv.key() << " ";
  std::cout << "\n";
}
// snippet-end: turn_run_print

void check_result(samples::SampleEnv& env, const codex::TurnResult& r) {
  samples::check(!r.id.empty() && r.id == samples::str(r.turn, "id"), "id is the turn's id");
  samples::check(r.status == codex::TurnStatus::completed && !r.error, "completed, no error");
  samples::check(r.started_at && r.completed_at && *r.completed_at >= *r.started_at,
                 "started_at <= completed_at");
  samples::check(r.final_response.has_value() && !r.final_response->empty(), "a final response");
  samples::check(r.usage.has_value(), "token usage reported");
  if (env.online()) return;
  bool reasoning = false, message = false;
  for (const auto& item : r.items) {
    reasoning = reasoning || samples::item_type(item) == "reasoning";
    message = message || samples::item_type(item) == "agentMessage";
  }
  samples::check(reasoning && message, "items hold the reasoning and the agent message");
  samples::check(*r.final_response == kAnswer, "final_response is the scripted answer");
  samples::check(r.usage->last.output_tokens == 45 && r.usage->last.input_tokens == 321,
                 "usage.last is what the model reported");
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  // snippet-begin: turn_run_sync
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();
  codex::TurnHandle turn = thread.turn("One sentence about structured planning.");
  codex::TurnResult result = turn.run();  // throws TurnFailedError if the turn failed
  // snippet-end: turn_run_sync
  print_result(result);
  check_result(env, result);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  // snippet-begin: turn_run_async
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread thread = co_await codex.thread_start();
  codex::Input prompt("One sentence about structured planning.");
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
  codex::TurnResult result = co_await turn.run();
  // snippet-end: turn_run_async
  print_result(result);
  check_result(env, result);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "02_turn_run", sync_main, async_main);
}
