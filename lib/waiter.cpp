// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "waiter.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mutex>
#include <vector>

namespace codex::detail {

namespace asio = boost::asio;

/// Keeps the list of waiting waiters of one execution context, so that shutting the context down
/// destroys their handlers (and the coroutines suspended in them) like Asio's own operations.
class WaiterService final : public asio::execution_context::service {
 public:
  using key_type = WaiterService;
  static inline asio::execution_context::id id;

  explicit WaiterService(asio::execution_context& ctx) : asio::execution_context::service(ctx) {}

  void add(Waiter* w) {
    std::lock_guard lock(mutex_);
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
    // Destroying a handler destroys its coroutine, which may destroy other waiters (unlisted
    // first, so they never touch the list while it is walked) or start new waits: repeat.
    for (;;) {
      std::vector<Waiter::Handler> doomed;
      {
        std::lock_guard lock(mutex_);
        while (head_) {
          Waiter* w = head_;
          unlink(w);
          doomed.push_back(std::move(w->handler_));
          w->handler_ = nullptr;
          w->run_ex_ = asio::any_io_executor();
          ++w->generation_;
        }
      }
      if (doomed.empty()) return;
      doomed.clear();
    }
  }

  std::mutex mutex_;
  Waiter* head_ = nullptr;
};

struct Waiter::TimerBox {
  explicit TimerBox(const asio::any_io_executor& ex, clock::time_point at) : timer(ex, at) {}
  asio::steady_timer timer;
};

Waiter::Waiter(const asio::any_io_executor& ex)
    : ex_(ex),
      service_(&asio::use_service<WaiterService>(asio::query(ex, asio::execution::context))) {}

Waiter::~Waiter() {
  // Not waiting in normal use: the waiting coroutine keeps its waiter alive. (At shutdown the
  // service has already unlisted it.)
  if (listed_) service_->remove(this);
  if (token_) *token_ = nullptr;
}

const std::shared_ptr<Waiter*>& Waiter::token() {
  if (!token_) token_ = std::make_shared<Waiter*>(this);
  return token_;
}

void Waiter::begin(Handler h, asio::any_io_executor ex, asio::cancellation_slot slot,
                   clock::time_point deadline) {
  // Not `handler_ = std::move(h)`: Boost 1.81's move assignment copies `other` as an lvalue into
  // the converting constructor, which wraps the handler in itself without end.
  handler_.swap(h);
  // Like any pending Asio operation, a wait keeps its io_context's run() going.
  run_ex_ = asio::prefer(std::move(ex), asio::execution::outstanding_work.tracked);
  const std::uint64_t gen = ++generation_;
  service_->add(this);
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

void Waiter::finish(boost::system::error_code ec) noexcept {
  if (!handler_) return;
  ++generation_;  // late timer and cancellation callbacks of this wait become no-ops
  if (listed_) service_->remove(this);
  if (auto box = timer_.lock()) box->timer.cancel();
  timer_.reset();
  // Posted, so the waiting coroutine resumes after whatever woke it (the reader routing a batch,
  // a cancellation signal being emitted) has returned.
  try {
    asio::post(run_ex_, [h = std::move(handler_), ec]() mutable { std::move(h)(ec); });
  } catch (...) {
    // Allocation failure while posting: the handler is gone with the exception; nothing to do.
  }
  handler_ = nullptr;
  run_ex_ = asio::any_io_executor();  // the posted completion holds the work now
}

}  // namespace codex::detail
