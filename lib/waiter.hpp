// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Internal: a cheap parking spot for one coroutine at a time. Not installed.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace codex::detail {

class WaiterService;

/// One waiting coroutine, woken by `wake()` without a timer.
///
/// A turn stream waits once per event when many turns interleave, so the wait must be cheap: a
/// `steady_timer` costs a timer-queue insertion and a cancellation (each under the reactor's
/// mutex) per wake-up. A `Waiter` keeps the type-erased completion handler itself and posts it
/// on `wake()`; the handler lives inside the waiter (no allocation per wait) and the waiter is
/// registered with its execution context once, not per wait. Only a wait with a deadline uses a
/// timer.
///
/// The wait completes with no error when woken, `asio::error::timed_out` at the deadline and
/// `asio::error::operation_aborted` when the awaiting operation is cancelled (per-operation
/// cancellation through the handler's cancellation slot, any type but `none`).
///
/// Like a pending Asio operation, a wait counts as outstanding work of its executor (run() does
/// not return while a coroutine waits).
///
/// Lifetime: every waiter is registered with its execution context (a service), which destroys
/// a waiting handler at shutdown exactly like Asio destroys its own pending operations; so a
/// coroutine suspended here when its `io_context` is destroyed is destroyed, not leaked. A
/// `Waiter` that is not waiting may outlive its execution context. Use from one thread (or
/// strand) at a time, like the engine that owns it.
class Waiter {
 public:
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
          store(std::move(handler));
          begin(std::move(ex), slot, deadline);
        },
        token);
  }

  /// Completes a pending wait with no error (posted, never inline). No-op when not waiting.
  void wake() noexcept { finish(boost::system::error_code(), false); }
  /// Completes a pending wait with no error by `dispatch`: inline when the waiting handler's
  /// executor runs in this thread. Only for a caller that is itself a posted handler with nothing
  /// on its stack to protect (`Engine::flush_wakes`). No-op when not waiting. What the handler
  /// throws when it runs here propagates, as from any handler (out of `io_context::run()`); the
  /// waiter is already back to not waiting then.
  void wake_inline() { finish(boost::system::error_code(), true); }
  bool waiting() const noexcept { return ops_ != nullptr; }

 private:
  friend class WaiterService;
  using Any = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  /// The waiting handler is kept in the waiter itself, type-erased by a table of functions, so a
  /// wait allocates nothing for it (a coroutine's handler is two pointers). A handler too big for
  /// the buffer, or that may throw on move, is kept as an `any_completion_handler`.
  static constexpr std::size_t kInline = 6 * sizeof(void*);
  struct Ops {
    /// Moves the handler at `from` to `to` and destroys the one at `from`.
    void (*relocate)(void* from, void* to) noexcept;
    void (*destroy)(void* at) noexcept;
    /// Takes the handler out of `at` and posts (or dispatches) its completion with `ec` to `ex`.
    void (*post)(void* at, const boost::asio::any_io_executor& ex, boost::system::error_code ec,
                 bool dispatch);
  };
  /// True when `ex` (a work-tracking executor, see begin()) is an `io_context` executor whose
  /// context runs in this thread.
  static bool runs_here(const boost::asio::any_io_executor& ex) noexcept;
  template <class H>
  static constexpr bool fits =
      sizeof(H) <= kInline &&
      alignof(H) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<H>;
  template <class H>
  static const Ops* ops_for() noexcept {
    static constexpr Ops ops{
        [](void* from, void* to) noexcept {
          auto* h = static_cast<H*>(from);
          ::new (to) H(std::move(*h));
          h->~H();
        },
        [](void* at) noexcept { static_cast<H*>(at)->~H(); },
        [](void* at, const boost::asio::any_io_executor& ex, boost::system::error_code ec,
           bool dispatch) {
          auto* hp = static_cast<H*>(at);
          H h(std::move(*hp));
          hp->~H();
          if (dispatch && runs_here(ex)) {
            std::move(h)(ec);  // what dispatch() would do, without wrapping the call
            return;
          }
          auto done = [h = std::move(h), ec]() mutable { std::move(h)(ec); };
          if (dispatch)
            boost::asio::dispatch(ex, std::move(done));
          else
            boost::asio::post(ex, std::move(done));
        }};
    return &ops;
  }
  template <class H>
  void store(H&& h) {
    using D = std::decay_t<H>;
    if constexpr (fits<D>) {
      ::new (static_cast<void*>(buf_)) D(std::move(h));
      ops_ = ops_for<D>();
    } else {
      static_assert(fits<Any>);
      ::new (static_cast<void*>(buf_)) Any(std::move(h));
      ops_ = ops_for<Any>();
    }
  }

  void begin(boost::asio::any_io_executor ex, boost::asio::cancellation_slot slot,
             clock::time_point deadline);
  void finish(boost::system::error_code ec, bool dispatch = false);
  const std::shared_ptr<Waiter*>& token();

  boost::asio::any_io_executor ex_;      // the engine's executor (service, timers)
  boost::asio::any_io_executor run_ex_;  // the waiting handler's executor, tracking work
  WaiterService* service_;
  const Ops* ops_ = nullptr;  // set while a handler waits in buf_
  alignas(std::max_align_t) unsigned char buf_[kInline];
  std::uint64_t generation_ = 0;
  std::shared_ptr<Waiter*> token_;  // for late timer / cancellation callbacks
  struct TimerBox;
  std::weak_ptr<TimerBox> timer_;
  // WaiterService's intrusive list of its waiters (every live one, waiting or not).
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  bool listed_ = false;
};

}  // namespace codex::detail
