// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Internal: a cheap parking spot for one coroutine at a time. Not installed.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>

namespace codex::detail {

class WaiterService;

/// One waiting coroutine, woken by `wake()` without a timer.
///
/// A turn stream waits once per event when many turns interleave, so the wait must be cheap: a
/// `steady_timer` costs a timer-queue insertion and a cancellation (each under the reactor's
/// mutex) per wake-up. A `Waiter` keeps the type-erased completion handler itself and posts it
/// on `wake()`. Only a wait with a deadline uses a timer.
///
/// The wait completes with no error when woken, `asio::error::timed_out` at the deadline and
/// `asio::error::operation_aborted` when the awaiting operation is cancelled (per-operation
/// cancellation through the handler's cancellation slot, any type but `none`).
///
/// Like a pending Asio operation, a wait counts as outstanding work of its executor (run() does
/// not return while a coroutine waits).
///
/// Lifetime: a waiting handler is registered with the execution context (a service), which
/// destroys it at shutdown exactly like Asio destroys its own pending operations; so a
/// coroutine suspended here when its `io_context` is destroyed is destroyed, not leaked. A
/// `Waiter` that is not waiting may outlive its execution context. Use from one thread (or
/// strand) at a time, like the engine that owns it.
class Waiter {
 public:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
  using clock = std::chrono::steady_clock;

  explicit Waiter(const boost::asio::any_io_executor& ex);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  /// Waits until `wake()`, `deadline` (none if `time_point::max()`) or cancellation.
  template <class Token>
  auto async_wait(clock::time_point deadline, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this, deadline](auto handler) {
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler, ex_);
          begin(Handler(std::move(handler)), std::move(ex), slot, deadline);
        },
        token);
  }

  /// Completes a pending wait with no error (posted, never inline). No-op when not waiting.
  void wake() noexcept { finish(boost::system::error_code()); }
  bool waiting() const noexcept { return static_cast<bool>(handler_); }

 private:
  friend class WaiterService;
  void begin(Handler h, boost::asio::any_io_executor ex, boost::asio::cancellation_slot slot,
             clock::time_point deadline);
  void finish(boost::system::error_code ec) noexcept;
  const std::shared_ptr<Waiter*>& token();

  boost::asio::any_io_executor ex_;      // the engine's executor (service, timers)
  boost::asio::any_io_executor run_ex_;  // the waiting handler's executor
  WaiterService* service_;
  Handler handler_;
  std::uint64_t generation_ = 0;
  std::shared_ptr<Waiter*> token_;  // for late timer / cancellation callbacks
  struct TimerBox;
  std::weak_ptr<TimerBox> timer_;
  // WaiterService's intrusive list of waiting waiters.
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  bool listed_ = false;
};

}  // namespace codex::detail
