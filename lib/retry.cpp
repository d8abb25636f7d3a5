// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/retry.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <thread>

namespace codex::detail {

void check_retry_options(const RetryOptions& o) {
  if (o.max_attempts < 1) throw std::invalid_argument("max_attempts must be >= 1");
  if (o.initial_delay.count() < 0 || o.max_delay.count() < 0)
    throw std::invalid_argument("retry delays must be >= 0");
  if (o.jitter_ratio < 0 || o.jitter_ratio > 1)
    throw std::invalid_argument("jitter_ratio must be within [0, 1]");
}

std::chrono::milliseconds retry_delay(int attempt, const RetryOptions& o) {
  double base = static_cast<double>(o.initial_delay.count());
  for (int i = 1; i < attempt; ++i)
    base *= 2;
  double max = static_cast<double>(o.max_delay.count());
  base = std::min(base, max);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double jitter = base * o.jitter_ratio;
  std::uniform_real_distribution<double> dist(-jitter, jitter);
  double d = std::clamp(base + (jitter > 0 ? dist(rng) : 0.0), 0.0, max);
  return std::chrono::milliseconds(static_cast<std::int64_t>(d));
}

void sleep_for(std::chrono::milliseconds d) {
  if (d.count() > 0) std::this_thread::sleep_for(d);
}

boost::asio::awaitable<void> async_sleep_for(std::chrono::milliseconds d) {
  if (d.count() <= 0) co_return;
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(boost::asio::use_awaitable);
}

}  // namespace codex::detail
