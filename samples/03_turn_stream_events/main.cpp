// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 03 turn_stream_events — twin of the Python SDK's examples/03_turn_stream_events.
//
// Streams one turn and prints every notification as it arrives: its method and the interesting
// part of its params. The stream ends after `turn/completed`; its `result()` is then built from
// the events it yielded.
//
//   03_turn_stream_events [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <chrono>
#include <iostream>
#include <map>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using namespace std::chrono_literals;
using codex::testing::Response;

void script(samples::SampleEnv& env) {
  env.script(Response::reasoning("Counting is easy.", {.deltas = 2})
                 .then_message("One, two, three, four, five.", {.deltas = 5, .delay = 20ms}));
}

/// The method and a short summary of one event.
void print_event(const codex::Notification& ev) {
  std::cout << ev.method;
  if (ev.is_request()) std::cout << "  (server request)";
  if (!ev.delta().empty()) {
    std::cout << "  \"" << ev.delta() << "\"";
  } else if (const auto* item = samples::at_path(ev.params, {"item"}); item && item->is_object()) {
    std::cout << "  " << samples::item_type(item->get_object());
  } else if (ev.method == "turn/completed" || ev.method == "turn/started") {
    std::cout << "  status=" << samples::str_at(ev.params, {"turn", "status"});
  } else if (const auto* total =
                 samples::at_path(ev.params, {"tokenUsage", "total", "totalTokens"})) {
    std::cout << "  total_tokens=" << json::serialize(*total);
  }
  std::cout << "\n";
}

void summarize(samples::SampleEnv& env, const std::map<std::string, int>& counts,
               const std::string& last_method, const codex::TurnResult& result) {
  std::cout << "\nmethods seen:\n";
  for (const auto& [method, n] : counts)
    std::cout << "  " << n << " x " << method << "\n";
  std::cout << "result: " << codex::to_string(result.status) << ", "
            << result.final_response.value_or("<none>") << "\n";
  samples::check(counts.contains("turn/started"), "turn/started was streamed");
  samples::check(last_method == "turn/completed", "the stream ends with turn/completed");
  samples::check(result.status == codex::TurnStatus::completed, "the turn completed");
  if (!env.online()) {
    samples::check(counts.at("item/agentMessage/delta") == 5, "5 agent message deltas");
    samples::check(counts.at("item/reasoning/summaryTextDelta") == 2, "2 reasoning deltas");
  }
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();

  // snippet-begin: stream_events_sync
  codex::TurnHandle turn = thread.turn("Count from one to five.");
  codex::TurnStream events = turn.stream();
  std::map<std::string, int> counts;
  std::string last_method;
  for (const codex::Notification& ev : events) {  // blocks for each event; ends after completion
    print_event(ev);
    ++counts[ev.method];
    last_method = ev.method;
  }
  codex::TurnResult result = events.result();
  // snippet-end: stream_events_sync
  summarize(env, counts, last_method, result);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread thread = co_await codex.thread_start();

  // snippet-begin: stream_events_async
  codex::Input prompt("Count from one to five.");
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
  codex::AsyncTurnStream events = turn.stream();
  std::map<std::string, int> counts;
  std::string last_method;
  while (std::optional<codex::Notification> ev = co_await events.next()) {
    print_event(*ev);
    ++counts[ev->method];
    last_method = ev->method;
  }
  codex::TurnResult result = events.result();
  // snippet-end: stream_events_async
  summarize(env, counts, last_method, result);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "03_turn_stream_events", sync_main, async_main);
}
