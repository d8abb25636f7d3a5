// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "waiter.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>
#include <vector>

namespace codex::detail {

namespace asio = boost::asio;

/// Keeps the list of the waiters of one execution context, so that shutting the context down
/// destroys their waiting handlers (and the coroutines suspended in them) like Asio's own
/// operations. A waiter joins the list when it is made and leaves it when destroyed (or at
/// shutdown), so waiting itself takes no lock.
class WaiterService final : public asio::execution_context::service {
 public:
  using key_type = WaiterService;
  static inline asio::execution_context::id id;

  explicit WaiterService(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}

  void add(Waiter* w) {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;  // made during shutdown: nothing will outlive it here
    w->prev_ = nullptr;
    w->next_ = head_;
    if (head_) head_->prev_ = w;
    head_ = w;
    w->listed_ = true;
  }

  void remove(Waiter* w) {
    std::lock_guard lock(mutex_);
    unlink(w);
  }

 private:
  void unlink(Waiter* w) noexcept {
    if (!w->listed_) return;
    if (w->prev_)
      w->prev_->next_ = w->next_;
    else
      head_ = w->next_;
    if (w->next_) w->next_->prev_ = w->prev_;
    w->prev_ = w->next_ = nullptr;
    w->listed_ = false;
  }

  void shutdown() override {
    // Destroying a handler destroys its coroutine, which may destroy other waiters (even the one
    // it waited on) or start new waits. So unlist one waiter at a time, move its handler out of
    // it, and destroy the handler only once nothing refers to the waiter any more.
    for (;;) {
      alignas(std::max_align_t) unsigned char doomed[Waiter::kInline];
      const Waiter::Ops* ops = nullptr;
      {
        std::lock_guard lock(mutex_);
        shut_down_ = true;
        Waiter* w = head_;
        if (!w) return;
        unlink(w);
        if (w->ops_) {
          ops = w->ops_;
          ops->relocate(w->buf_, doomed);
          w->ops_ = nullptr;
          w->run_ex_ = asio::any_io_executor();
          ++w->generation_;
        }
      }
      if (ops) ops->destroy(doomed);
    }
  }

  std::mutex mutex_;
  Waiter* head_ = nullptr;
  bool shut_down_ = false;
};

struct Waiter::TimerBox {
  explicit TimerBox(const asio::any_io_executor& ex, clock::time_point at) : timer(ex, at) {}
  asio::steady_timer timer;
};

Waiter::Waiter(const asio::any_io_executor& ex)
    : ex_(ex),
      service_(&asio::use_service<WaiterService>(asio::query(ex, asio::execution::context))) {
  service_->add(this);
}

Waiter::~Waiter() {
  // Not waiting in normal use: the waiting coroutine keeps its waiter alive. (At shutdown the
  // service has already unlisted it and destroyed any waiting handler.)
  if (ops_) ops_->destroy(buf_);
  if (listed_) service_->remove(this);
  if (token_) *token_ = nullptr;
}

const std::shared_ptr<Waiter*>& Waiter::token() {
  if (!token_) token_ = std::make_shared<Waiter*>(this);
  return token_;
}

void Waiter::begin(asio::any_io_executor ex, asio::cancellation_slot slot,
                   clock::time_point deadline) {
  // Like any pending Asio operation, a wait keeps its io_context's run() going.
  run_ex_ = asio::prefer(std::move(ex), asio::execution::outstanding_work.tracked);
  const std::uint64_t gen = ++generation_;
  if (slot.is_connected()) {
    slot.assign([tok = token(), gen](asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (Waiter* w = *tok; w && w->generation_ == gen) w->finish(asio::error::operation_aborted);
    });
  }
  if (deadline != clock::time_point::max()) {
    auto box = std::make_shared<TimerBox>(ex_, deadline);
    timer_ = box;
    box->timer.async_wait([box, tok = token(), gen](boost::system::error_code ec) {
      if (ec) return;  // cancelled: the wait already ended
      if (Waiter* w = *tok; w && w->generation_ == gen) w->finish(asio::error::timed_out);
    });
  }
}

bool Waiter::runs_here(const asio::any_io_executor& ex) noexcept {
  using Tracked = decltype(asio::prefer(std::declval<asio::io_context::executor_type>(),
                                        asio::execution::outstanding_work.tracked));
  const auto* io = ex.target<Tracked>();
  return io && io->running_in_this_thread();
}

void Waiter::finish(boost::system::error_code ec, bool dispatch) {
  if (!ops_) return;
  ++generation_;  // late timer and cancellation callbacks of this wait become no-ops
  if (auto box = timer_.lock()) box->timer.cancel();
  timer_.reset();
  const Ops* ops = ops_;
  ops_ = nullptr;
  asio::any_io_executor ex = std::move(run_ex_);  // holds the work until the post holds it
  run_ex_ = asio::any_io_executor();
  // Dispatched for wake_inline(): the handler may run here, and what it throws is the caller's.
  if (dispatch) {
    ops->post(buf_, ex, ec, true);
    return;
  }
  // Posted, so the waiting coroutine resumes after whatever woke it (the reader routing a batch,
  // a cancellation signal being emitted) has returned.
  try {
    ops->post(buf_, ex, ec, false);
  } catch (...) {
    // Allocation failure while posting: the handler is gone with the exception; nothing to do.
  }
}

}  // namespace codex::detail
