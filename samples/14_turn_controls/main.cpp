// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 14 turn_controls — twin of the Python SDK's examples/14_turn_controls.
//
// Controls a running turn while streaming it:
//   * steer: as soon as the first words arrive, `steer()` adds input to the running turn; the
//     model then answers the steered request within the same turn;
//   * interrupt: as soon as another turn starts talking, `interrupt()` stops it; the stream ends
//     with `turn/completed` and the status `interrupted`.
// Offline, the scripted model holds each answer after its first delta (a gate) until the sample
// has steered/interrupted, so the run is deterministic: no timing, no sleeps.
//
//   14_turn_controls [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <iostream>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using codex::testing::Response;

constexpr const char* kSteerPrompt = "Count from 1 to 40 with commas, then one summary sentence.";
constexpr const char* kSteerText = "Keep it brief and stop after 10 numbers.";
constexpr const char* kInterruptPrompt =
    "Count from 1 to 200 with commas, then one summary sentence.";

std::string count_to(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i)
    s += std::to_string(i) + (i < n ? ", " : ".");
  return s;
}

void script(samples::SampleEnv& env) {
  env.script(Response::message(count_to(40), {.deltas = 8}).hold_after_deltas("steer", 1));
  env.script(Response::message(count_to(10) + " Brief, as you asked.", {.deltas = 3}));
  env.script(Response::message(count_to(200), {.deltas = 20}).hold_after_deltas("interrupt", 1));
}

/// Offline: let the held answer go on (a no-op online).
void release(samples::SampleEnv& env, const std::string& gate) {
  if (auto* model = env.model()) model->release(gate);
}

/// What one consumer saw of a turn.
struct Watched {
  int events = 0;
  std::string completed_status;
  std::string text;
  json::object control_result;  // the steer/interrupt response
  std::string control_error;    // when the control came too late (online)

  bool talking = false;   // an agent message delta was seen
  std::string last_item;  // the message the last delta belonged to

  /// Records one event; true when it is the turn's first agent message delta.
  bool see(const codex::Notification& ev) {
    ++events;
    if (ev.method == "turn/completed")
      completed_status = samples::str_at(ev.params, {"turn", "status"});
    if (ev.method != "item/agentMessage/delta") return false;
    const bool first = !talking;
    if (talking && ev.item_id() != last_item) text += " | ";  // a new message of the same turn
    talking = true;
    last_item = std::string(ev.item_id());
    text += ev.delta();
    return first;
  }
};

void print_watched(std::string_view what, const Watched& w) {
  std::cout << what << ".result: "
            << (w.control_error.empty() ? json::serialize(w.control_result) : w.control_error)
            << "\n"
            << what << ".final.status: " << w.completed_status << "\n"
            << what << ".events.count: " << w.events << "\n"
            << what << ".assistant.preview: " << samples::preview(w.text, 100) << "\n";
}

void check_all(samples::SampleEnv& env, const Watched& steer, const std::string& steer_turn_id,
               const Watched& interrupt, const std::string& steer_request_texts) {
  print_watched("steer", steer);
  print_watched("interrupt", interrupt);
  samples::check(steer.completed_status == "completed", "the steered turn completed");
  samples::check(interrupt.completed_status == "interrupted" || env.online(),
                 "the interrupted turn ended interrupted");
  if (env.online()) return;
  samples::check(samples::str(steer.control_result, "turnId") == steer_turn_id,
                 "steer() answered with the turn's id");
  samples::check(steer_request_texts.find(kSteerText) != std::string::npos,
                 "the steer text reached the model within the same turn");
  samples::check(interrupt.control_result.empty(), "interrupt() answered {}");
}

/// Offline: every input text of the model request that followed the steer.
std::string steered_request_texts(samples::SampleEnv& env) {
  std::string all;
  if (auto* model = env.model())
    for (const auto& t : samples::last_model_request(*model).input_texts())
      all += t + "\n";
  return all;
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();

  // snippet-begin: turn_controls_sync
  Watched steer;
  codex::TurnHandle steer_turn = thread.turn(kSteerPrompt);
  for (const codex::Notification& ev : steer_turn.stream()) {
    if (!steer.see(ev)) continue;
    try {  // the turn is talking: add to it
      steer.control_result = steer_turn.steer(kSteerText);
    } catch (const codex::InvalidRequestError& e) {  // it ended already
      steer.control_error = e.rpc_message();
    }
    release(env, "steer");
  }
  const std::string steer_texts = steered_request_texts(env);

  Watched interrupt;
  codex::TurnHandle interrupt_turn = thread.turn(kInterruptPrompt);
  for (const codex::Notification& ev : interrupt_turn.stream()) {
    if (!interrupt.see(ev)) continue;
    try {  // the turn is talking: stop it
      interrupt.control_result = interrupt_turn.interrupt();
    } catch (const codex::InvalidRequestError& e) {
      interrupt.control_error = e.rpc_message();
    }
    release(env, "interrupt");
  }
  // snippet-end: turn_controls_sync
  check_all(env, steer, steer_turn.id(), interrupt, steer_texts);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread thread = co_await codex.thread_start();

  // snippet-begin: turn_controls_async
  Watched steer;
  codex::Input steer_prompt(kSteerPrompt);
  codex::AsyncTurnHandle steer_turn = co_await thread.turn(std::move(steer_prompt));
  codex::AsyncTurnStream steer_events = steer_turn.stream();
  while (auto ev = co_await steer_events.next()) {
    if (!steer.see(*ev)) continue;
    try {
      codex::Input more(kSteerText);
      steer.control_result = co_await steer_turn.steer(std::move(more));
    } catch (const codex::InvalidRequestError& e) {
      steer.control_error = e.rpc_message();
    }
    release(env, "steer");
  }
  const std::string steer_texts = steered_request_texts(env);

  Watched interrupt;
  codex::Input interrupt_prompt(kInterruptPrompt);
  codex::AsyncTurnHandle interrupt_turn = co_await thread.turn(std::move(interrupt_prompt));
  codex::AsyncTurnStream interrupt_events = interrupt_turn.stream();
  while (auto ev = co_await interrupt_events.next()) {
    if (!interrupt.see(*ev)) continue;
    try {
      interrupt.control_result = co_await interrupt_turn.interrupt();
    } catch (const codex::InvalidRequestError& e) {
      interrupt.control_error = e.rpc_message();
    }
    release(env, "interrupt");
  }
  // snippet-end: turn_controls_async
  check_all(env, steer, steer_turn.id(), interrupt, steer_texts);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "14_turn_controls", sync_main, async_main);
}
