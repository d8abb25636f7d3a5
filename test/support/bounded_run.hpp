// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// The two hang guards every test layer shares (unit, integration, end-to-end, remote):
//
// - `run_async(ioc, op, timeout)` runs a coroutine on an io_context, on the calling thread, and
//   returns its value or rethrows its exception. When `timeout` passes first, the coroutine is
//   cancelled (terminal), given a few seconds to unwind, and the test FAILS with a message: a hang
//   never blocks the suite.
// - `Watchdog` guards a test that blocks (the sync `Codex`, a joined thread): if the test is
//   still running after its limit, the process is ended with a message naming the test.
//
// Header-only (Catch2, Boost.Asio, the standard library): CMake target `codex::test_bounded_run`
// (test/support/CMakeLists.txt), also reached through `codex_test_support`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace codex::testing {

/// Default bound of one `run_async` call.
inline constexpr std::chrono::milliseconds kRunAsyncTimeout = std::chrono::seconds(60);
/// How long a timed-out coroutine is given to unwind after its cancellation.
inline constexpr std::chrono::milliseconds kRunAsyncUnwind = std::chrono::seconds(5);
/// Default limit of a `Watchdog`.
inline constexpr std::chrono::seconds kWatchdogLimit = std::chrono::seconds(60);

namespace detail {

/// The outcome of one `run_async` coroutine. Its completion may run on another thread (a handler
/// pool completing the awaited operation), so it is guarded by a mutex.
template <class T>
struct RunState {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;
  std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
  // Here, not on run_async's stack: a coroutine that never unwinds still holds the slot.
  boost::asio::cancellation_signal cancel;

  bool finished() {
    std::lock_guard lock(mutex);
    return done;
  }
  void finish(std::exception_ptr e) {
    {
      std::lock_guard lock(mutex);
      error = std::move(e);
      done = true;
    }
    cv.notify_all();
  }
  /// Waits until done or `until`, whichever comes first.
  void wait_until(std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(mutex);
    cv.wait_until(lock, until, [this] { return done; });
  }
};

}  // namespace detail

/// Runs `op` on `ioc` (on this thread) until it finishes, and returns its value or rethrows its
/// exception. The io_context keeps its other work (a client's loops) for the next call. When
/// `timeout` passes first, the operation is cancelled (terminal), given `kRunAsyncUnwind` to
/// unwind, and the test FAILS; `describe`, when set, adds the test's own state to that message.
template <class T>
T run_async(boost::asio::io_context& ioc, boost::asio::awaitable<T> op,
            std::chrono::milliseconds timeout = kRunAsyncTimeout,
            const std::function<std::string()>& describe = {}) {
  namespace asio = boost::asio;
  using steady = std::chrono::steady_clock;
  auto st = std::make_shared<detail::RunState<T>>();
  if constexpr (std::is_void_v<T>) {
    asio::co_spawn(ioc, std::move(op),
                   asio::bind_cancellation_slot(st->cancel.slot(),
                                                [st](std::exception_ptr e) { st->finish(e); }));
  } else {
    asio::co_spawn(ioc, std::move(op),
                   asio::bind_cancellation_slot(st->cancel.slot(), [st](std::exception_ptr e, T v) {
                     if (!e) {
                       std::lock_guard lock(st->mutex);
                       st->value.emplace(std::move(v));
                     }
                     st->finish(e);
                   }));
  }
  // Runs handlers one at a time until the operation is done or `deadline`. With nothing left to
  // run, the completion can only come from another thread: wait for it (briefly, then re-check).
  auto drive = [&](steady::time_point deadline) {
    while (!st->finished()) {
      const auto now = steady::now();
      if (now >= deadline) return;
      if (ioc.stopped()) {
        ioc.restart();
        st->wait_until(std::min(deadline, now + std::chrono::milliseconds(1)));
        continue;
      }
      ioc.run_one_until(std::min(deadline, now + std::chrono::milliseconds(20)));
    }
  };
  drive(steady::now() + timeout);
  if (!st->finished()) {
    st->cancel.emit(asio::cancellation_type::terminal);
    drive(steady::now() + kRunAsyncUnwind);
    const bool unwound = st->finished();
    FAIL("async operation did not finish within "
         << timeout.count() << " ms (cancelled; the test is failed)"
         << (unwound ? "" : " and did not unwind") << (describe ? ": " + describe() : ""));
  }
  if (st->error) std::rethrow_exception(st->error);
  if constexpr (!std::is_void_v<T>) return std::move(*st->value);
}

/// Ends the whole test process (exit status 124) with a message naming the test when the test is
/// still running after `limit`: a blocking call that hangs would otherwise block until the CTest
/// timeout. Construct it first in the test (or in its fixture); it stands down when destroyed.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit = kWatchdogLimit)
      : name_(Catch::getResultCapture().getCurrentTestName()) {
    thread_ = std::thread([this, limit] {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
        std::fprintf(stderr,
                     "\n[watchdog] test '%s' did not finish within %lld s: a blocking call "
                     "hung. Aborting.\n",
                     name_.c_str(), static_cast<long long>(limit.count()));
        std::fflush(stderr);
        std::_Exit(124);
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::string name_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace codex::testing
