// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// The SDK side: the same turns through AsyncCodex and Codex, spawning the same fake.
#include "harness.hpp"

#include <codex/codex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>

namespace bench {

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

void on_event(Consumer& c, const codex::Notification& ev) {
  c.on(ev.method, ev.method == kDelta ? ev.delta() : std::string_view());
}

codex::CodexConfig fake_config(const Params& p, const json::object& script) {
  codex::CodexConfig cfg;
  cfg.launch_args_override = fake_argv(p, script);
  if (p.limit > 0) cfg.limits.max_buffered_turn_events = static_cast<std::size_t>(p.limit);
  return cfg;
}

/// Runs `body` on a single-threaded io_context on this thread.
void run_on_io_context(asio::awaitable<void> body) {
  asio::io_context ioc(1);
  std::exception_ptr err;
  asio::co_spawn(ioc, std::move(body), [&err](std::exception_ptr e) { err = e; });
  ioc.run();
  if (err) std::rethrow_exception(err);
}

void stream_result(Result& r, Consumer& c, const Window& w) {
  c.finish(r);
  r["seconds"] = w.seconds;
  r["cpu_seconds"] = w.cpu;
  r["eps"] = static_cast<double>(c.events) / w.seconds;
  r["cpu_us_per_event"] = w.cpu * 1e6 / static_cast<double>(c.events);
  r["busiest_thread_us_per_event"] = w.busiest * 1e6 / static_cast<double>(c.events);
}

asio::awaitable<void> async_turn(const Params& p, bool use_run, Result& r) {
  auto ex = co_await asio::this_coro::executor;
  codex::AsyncCodex client(ex, fake_config(p, stream_script(p)));
  co_await client.start();
  codex::ThreadStartOptions topts;
  codex::AsyncThread thread = co_await client.thread_start(std::move(topts));
  Consumer c;
  codex::Input input("go");
  codex::TurnOptions opts;
  Window w;
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(input), std::move(opts));
  if (use_run) {
    codex::EventObserver observer = [&c](const codex::Notification& ev) { on_event(c, ev); };
    codex::TurnResult result = co_await turn.run(std::move(observer));
    r["status"] = std::string(codex::to_string(result.status));
  } else {
    codex::AsyncTurnStream events = turn.stream();
    while (auto ev = co_await events.next())
      on_event(c, *ev);
  }
  w.stop();
  co_await client.close();
  stream_result(r, c, w);
}

asio::awaitable<void> consume_turn(codex::AsyncTurnHandle turn, Consumer& c, double& done_at,
                                   std::size_t& remaining, asio::steady_timer& all_done) {
  codex::AsyncTurnStream events = turn.stream();
  while (auto ev = co_await events.next())
    on_event(c, *ev);
  done_at = now_s();
  if (--remaining == 0) all_done.cancel();
}

asio::awaitable<void> async_kturns(const Params& p, Result& r) {
  auto ex = co_await asio::this_coro::executor;
  codex::AsyncCodex client(ex, fake_config(p, k_turns_script(p)));
  co_await client.start();
  codex::ThreadStartOptions topts;
  codex::AsyncThread thread = co_await client.thread_start(std::move(topts));
  Consumer c;
  const auto k = static_cast<std::size_t>(p.k);
  std::vector<double> done_at(k, 0.0);
  std::size_t remaining = k;
  asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
  Window w;
  // Start K turns, each with its own consumer coroutine. The fake streams all of them,
  // interleaved, once the last turn/start is answered: time from that request on.
  for (std::size_t i = 0; i < k; ++i) {
    if (i + 1 == k) w = Window();
    codex::Input input("go");
    codex::TurnOptions opts;
    codex::AsyncTurnHandle turn = co_await thread.turn(std::move(input), std::move(opts));
    asio::co_spawn(ex, consume_turn(std::move(turn), c, done_at[i], remaining, all_done),
                   asio::detached);
  }
  while (remaining > 0)
    co_await all_done.async_wait(asio::as_tuple(use_awaitable));
  w.stop();
  w.seconds = *std::max_element(done_at.begin(), done_at.end()) - w.t0;
  co_await client.close();
  std::vector<double> took;
  for (double d : done_at)
    took.push_back(d - w.t0);
  std::sort(took.begin(), took.end());
  stream_result(r, c, w);
  r["turn_median_s"] = took[took.size() / 2];
  r["turn_slowest_s"] = took.back();
  r["turn_fastest_s"] = took.front();
  r["slowest_over_median"] = took.back() / took[took.size() / 2];
}

asio::awaitable<void> async_rt(const Params& p, Result& r) {
  auto ex = co_await asio::this_coro::executor;
  codex::AsyncCodex client(ex, fake_config(p, echo_script()));
  co_await client.start();
  std::vector<double> samples;
  const std::int64_t warm = 200;
  const std::string method = "bench/echo";
  for (std::int64_t i = 0; i < warm + p.iters; ++i) {
    json::value params = json::object();
    std::string m = method;
    const double t0 = now_s();
    json::value v = co_await client.request(std::move(m), std::move(params));
    const double t1 = now_s();
    if (i >= warm) samples.push_back(t1 - t0);
  }
  co_await client.close();
  latency_summary(samples, r);
}

}  // namespace

Result sdk_async_stream(const Params& p) {
  Result r;
  run_on_io_context(async_turn(p, false, r));
  return r;
}

Result sdk_async_run(const Params& p) {
  Result r;
  run_on_io_context(async_turn(p, true, r));
  return r;
}

Result sdk_async_kturns(const Params& p) {
  Result r;
  run_on_io_context(async_kturns(p, r));
  return r;
}

Result sdk_async_rt(const Params& p) {
  Result r;
  run_on_io_context(async_rt(p, r));
  return r;
}

namespace {

Result sync_turn(const Params& p, bool use_run) {
  codex::Codex client(fake_config(p, stream_script(p)));
  codex::Thread thread = client.thread_start();
  Consumer c;
  Result r;
  Window w;
  codex::TurnHandle turn = thread.turn("go");
  if (use_run) {
    // The observer runs on the client's I/O thread.
    codex::TurnResult result = turn.run([&c](const codex::Notification& ev) { on_event(c, ev); });
    r["status"] = std::string(codex::to_string(result.status));
  } else {
    for (const codex::Notification& ev : turn.stream())
      on_event(c, ev);
  }
  w.stop();
  client.close();
  stream_result(r, c, w);
  return r;
}

}  // namespace

Result sdk_sync_stream(const Params& p) {
  return sync_turn(p, false);
}
Result sdk_sync_run(const Params& p) {
  return sync_turn(p, true);
}

Result sdk_sync_rt(const Params& p) {
  codex::Codex client(fake_config(p, echo_script()));
  std::vector<double> samples;
  const std::int64_t warm = 200;
  for (std::int64_t i = 0; i < warm + p.iters; ++i) {
    const double t0 = now_s();
    json::value v = client.request("bench/echo", json::object());
    const double t1 = now_s();
    if (i >= warm) samples.push_back(t1 - t0);
  }
  client.close();
  Result r;
  latency_summary(samples, r);
  return r;
}

}  // namespace bench
