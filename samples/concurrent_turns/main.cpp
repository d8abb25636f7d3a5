// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// concurrent_turns — N threads' turns at once on one AsyncCodex (C++ only).
//
// One client, one io_context, one OS thread: N coroutines each start a thread and stream a turn.
// `experimental::make_parallel_group` waits for them all, and every turn's timings are printed
// (time to the first delta, time to completion) next to the wall time of the whole batch.
//
// Offline, every scripted answer holds after its first delta until ALL N turns have streamed
// theirs: the sample then releases them together, which proves the N turns were in flight at
// the same time without relying on timing.
//
//   concurrent_turns [--turns N] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace samples = codex::samples;
using namespace std::chrono_literals;
using codex::testing::Response;
using Clock = std::chrono::steady_clock;

constexpr const char* kGate = "together";

/// What one turn measured.
struct Timing {
  int index = 0;
  std::string thread_id;
  codex::TurnStatus status = codex::TurnStatus::unknown;
  double first_delta_ms = 0;
  double total_ms = 0;
  std::size_t chars = 0;
};

/// Shared by the N coroutines (all on the same executor: no locking needed).
struct Batch {
  samples::SampleEnv* env = nullptr;
  int turns = 0;
  int streaming = 0;  // turns that have streamed their first delta
  bool all_streaming = false;
  Clock::time_point start = Clock::now();
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// snippet-begin: concurrent_turns_one
asio::awaitable<Timing> one_turn(codex::AsyncCodex& codex, int index, Batch& batch) {
  Timing t{.index = index};
  const auto start = Clock::now();
  codex::ThreadStartOptions options{.ephemeral = true};
  codex::AsyncThread thread = co_await codex.thread_start(std::move(options));
  t.thread_id = thread.id();
  codex::Input prompt("Turn " + std::to_string(index) + ": write two sentences about concurrency.");
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));

  codex::AsyncTurnStream events = turn.stream();
  while (auto ev = co_await events.next()) {
    if (ev->method != "item/agentMessage/delta") continue;
    if (t.chars == 0) {
      t.first_delta_ms = ms_since(start);
      if (++batch.streaming == batch.turns) {
        batch.all_streaming = true;
        std::cout << "all " << batch.turns << " turns are streaming at once\n";
        if (auto* model = batch.env->model()) model->release(kGate);  // offline: let them finish
      }
    }
    t.chars += ev->delta().size();
  }
  t.status = events.result().status;
  t.total_ms = ms_since(start);
  co_return t;
}
// snippet-end: concurrent_turns_one

int run(samples::SampleEnv& env, int turns) {
  for (int i = 1; i <= turns; ++i)
    env.script(Response::message("Answer " + std::to_string(i) +
                                     ": many turns can share one connection. Each one streams "
                                     "its own events to its own consumer.",
                                 {.deltas = 10, .delay = 20ms})
                   .hold_after_deltas(kGate, 1));

  asio::io_context ioc;
  codex::AsyncCodex codex(ioc.get_executor(), env.config());
  Batch batch{.env = &env, .turns = turns};
  std::vector<Timing> timings;
  std::exception_ptr failure;

  auto all = [&]() -> asio::awaitable<void> {
    co_await codex.start();
    batch.start = Clock::now();
    // snippet-begin: concurrent_turns_group
    using Op = decltype(asio::co_spawn(ioc, one_turn(codex, 0, batch), asio::deferred));
    std::vector<Op> ops;
    for (int i = 1; i <= turns; ++i)
      ops.push_back(asio::co_spawn(ioc, one_turn(codex, i, batch), asio::deferred));
    auto group = asio::experimental::make_parallel_group(std::move(ops));
    auto [order, errors, results] =
        co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    // snippet-end: concurrent_turns_group
    for (std::size_t i = 0; i < errors.size(); ++i)
      if (errors[i]) std::rethrow_exception(errors[i]);
    timings = std::move(results);
    co_await codex.close();
  };
  asio::co_spawn(ioc, all(), [&](std::exception_ptr e) { failure = e; });
  ioc.run();
  if (failure) std::rethrow_exception(failure);

  const double wall = ms_since(batch.start);
  double sum = 0;
  int completed = 0;
  std::cout << std::fixed << std::setprecision(0);
  for (const Timing& t : timings) {
    std::cout << "turn " << t.index << " (thread " << t.thread_id.substr(0, 13)
              << "...): " << codex::to_string(t.status) << ", first delta after "
              << t.first_delta_ms << " ms, done after " << t.total_ms << " ms, " << t.chars
              << " chars\n";
    sum += t.total_ms;
    completed += t.status == codex::TurnStatus::completed ? 1 : 0;
  }
  std::cout << completed << " turns completed; wall time " << wall << " ms for the batch, " << sum
            << " ms if run one after another\n";
  samples::check(completed == turns, "every turn completed");
  if (!env.online()) samples::check(batch.all_streaming, "all turns were in flight together");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int turns = std::stoi(samples::flag_value(argc, argv, "--turns").value_or("4"));
  return samples::run_sample(argc, argv, "concurrent_turns",
                             [turns](samples::SampleEnv& env) { return run(env, turns); });
}
