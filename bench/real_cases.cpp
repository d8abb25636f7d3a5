// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Against the real `codex app-server` (the pinned binary, offline against the scripted model
// server): spawn-to-initialize time, and the SDK's share of a scripted turn's wall time.
#include "harness.hpp"

#include "mock_model_server.hpp"
#include "real_codex.hpp"

#include <codex/codex.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <exception>

namespace bench {

namespace asio = boost::asio;
using codex::testing::MockModelServer;
using codex::testing::RealCodexEnv;
using codex::testing::Response;

namespace {

void run_on_io_context(asio::awaitable<void> body) {
  asio::io_context ioc(1);
  std::exception_ptr err;
  asio::co_spawn(ioc, std::move(body), [&err](std::exception_ptr e) { err = e; });
  ioc.run();
  if (err) std::rethrow_exception(err);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Sample {
  double wall = 0;  // seconds
  double cpu = 0;   // seconds of the SDK's thread (the one running the io_context)
};

asio::awaitable<void> start_once(codex::CodexConfig cfg, Sample& s) {
  auto ex = co_await asio::this_coro::executor;
  codex::AsyncCodex client(ex, std::move(cfg));
  const double c0 = thread_cpu_s();
  const double t0 = now_s();
  co_await client.start();  // spawn + initialize
  s.wall = now_s() - t0;
  s.cpu = thread_cpu_s() - c0;
  co_await client.close();
}

asio::awaitable<void> turns(codex::CodexConfig cfg, MockModelServer& model, std::int64_t n,
                            std::int64_t deltas, std::vector<Sample>& out, std::uint64_t& events) {
  auto ex = co_await asio::this_coro::executor;
  codex::AsyncCodex client(ex, std::move(cfg));
  co_await client.start();
  codex::ThreadStartOptions topts;
  codex::AsyncThread thread = co_await client.thread_start(std::move(topts));
  std::string text;
  for (std::int64_t i = 0; i < deltas; ++i)
    text += "word ";
  for (std::int64_t i = 0; i <= n; ++i) {  // turn 0 warms up and is not counted
    codex::testing::MessageOptions mo;
    mo.deltas = static_cast<int>(deltas);
    model.enqueue(Response::message(text, mo));
    std::uint64_t seen = 0;
    codex::EventObserver observer = [&seen](const codex::Notification&) { ++seen; };
    codex::Input input("Say something.");
    codex::TurnOptions opts;
    const double c0 = thread_cpu_s();
    const double t0 = now_s();
    codex::AsyncTurnHandle turn = co_await thread.turn(std::move(input), std::move(opts));
    codex::TurnResult r = co_await turn.run(std::move(observer));
    Sample s{now_s() - t0, thread_cpu_s() - c0};
    if (i > 0) {
      out.push_back(s);
      events = seen;
    }
  }
  co_await client.close();
}

}  // namespace

Result real_start(const Params& p) {
  Result r;
  try {
    MockModelServer model;
    std::vector<double> wall, cpu;
    for (std::int64_t i = 0; i < p.iters; ++i) {
      RealCodexEnv env(model);
      Sample s;
      run_on_io_context(start_once(env.config(), s));
      wall.push_back(s.wall);
      cpu.push_back(s.cpu);
    }
    r["iters"] = p.iters;
    r["wall_ms"] = median(wall) * 1e3;
    r["wall_min_ms"] = *std::min_element(wall.begin(), wall.end()) * 1e3;
    r["sdk_cpu_ms"] = median(cpu) * 1e3;
    r["sdk_share"] = median(cpu) / median(wall);
  } catch (const std::exception& e) {
    r["skipped"] = e.what();
  }
  return r;
}

Result real_turn(const Params& p) {
  Result r;
  try {
    MockModelServer model;
    RealCodexEnv env(model);
    std::vector<Sample> samples;
    std::uint64_t events = 0;
    run_on_io_context(turns(env.config(), model, p.iters, p.n, samples, events));
    std::vector<double> wall, cpu, share;
    for (auto& s : samples) {
      wall.push_back(s.wall);
      cpu.push_back(s.cpu);
      share.push_back(s.cpu / s.wall);
    }
    r["iters"] = p.iters;
    r["deltas"] = p.n;
    r["events"] = events;
    r["wall_ms"] = median(wall) * 1e3;
    r["sdk_cpu_ms"] = median(cpu) * 1e3;
    r["sdk_share"] = median(share);
  } catch (const std::exception& e) {
    r["skipped"] = e.what();
  }
  return r;
}

}  // namespace bench
