// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file retry.hpp
/// @brief `retry_on_overload`: retries transient overload errors with exponential backoff and
/// jitter (3 attempts, 0.25 s doubling to 2 s, ±20%, never sleeping above the maximum).

#include <codex/errors.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <exception>
#include <type_traits>
#include <utility>

namespace codex {

/// Backoff settings.
struct RetryOptions {
  int max_attempts = 3;
  std::chrono::milliseconds initial_delay{250};
  std::chrono::milliseconds max_delay{2000};
  double jitter_ratio = 0.2;
};

namespace detail {
/// Validates `o` (throws `std::invalid_argument`).
void check_retry_options(const RetryOptions& o);
/// The sleep before attempt `attempt + 1` (attempt counts from 1): the base delay clamped to
/// `max_delay`, with jitter taken from the clamped base, then clamped into [0, max_delay].
std::chrono::milliseconds retry_delay(int attempt, const RetryOptions& o);
void sleep_for(std::chrono::milliseconds d);
boost::asio::awaitable<void> async_sleep_for(std::chrono::milliseconds d);
}  // namespace detail

/// Calls `op()` until it succeeds, retrying only errors for which `is_retryable_error` is true.
/// The last error is rethrown.
template <class Op>
auto retry_on_overload(Op&& op, RetryOptions opts = {}) -> decltype(op()) {
  detail::check_retry_options(opts);
  for (int attempt = 1;; ++attempt) {
    try {
      return op();
    } catch (const std::exception& e) {
      if (attempt >= opts.max_attempts || !is_retryable_error(e)) throw;
    }
    detail::sleep_for(detail::retry_delay(attempt, opts));
  }
}

/// Awaitable twin: `op` returns an `awaitable<T>`; sleeps with a timer on the caller's executor
/// (cancellable).
template <class Op>
auto async_retry_on_overload(Op op, RetryOptions opts = {}) -> decltype(op()) {
  detail::check_retry_options(opts);
  for (int attempt = 1;; ++attempt) {
    std::exception_ptr err;
    try {
      co_return co_await op();
    } catch (const std::exception& e) {
      if (attempt >= opts.max_attempts || !is_retryable_error(e)) throw;
      err = std::current_exception();
    }
    co_await detail::async_sleep_for(detail::retry_delay(attempt, opts));
  }
}

}  // namespace codex
