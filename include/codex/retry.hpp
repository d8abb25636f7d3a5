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

/// Backoff settings. `retry_on_overload` throws `std::invalid_argument` for invalid ones.
struct RetryOptions {
  /// Calls in all, the first included (at least 1).
  int max_attempts = 3;
  /// The sleep after the first failure; it doubles after each further one (at least 0).
  std::chrono::milliseconds initial_delay{250};
  /// The longest sleep, jitter included (at least 0).
  std::chrono::milliseconds max_delay{2000};
  /// Each sleep varies uniformly by up to this fraction of itself, within [0, 1].
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

/// Calls `op()` until it succeeds, retrying only errors for which `is_retryable_error` is true,
/// at most `opts.max_attempts` calls in all; between calls the calling thread sleeps (blocking).
/// The last error is rethrown; invalid `opts` throw `std::invalid_argument` before any call.
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

/// Awaitable twin of `retry_on_overload`: `op` returns an `awaitable<T>`; it sleeps with a timer
/// on the caller's executor (cancellable), never blocking the thread.
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
