// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/codex_sync.hpp>

#include "engine.hpp"

#include <codex/errors.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

namespace codex {

namespace json = boost::json;
namespace asio = boost::asio;

namespace detail {

/// Shares `value` so that it is destroyed on `ex` (the I/O thread): the async objects touch the
/// engine's state, which only that thread may do. If the context is gone before the posted
/// deletion runs, the handler's destructor deletes it (no thread runs the context by then).
template <class T>
std::shared_ptr<T> io_owned(asio::any_io_executor ex, T value) {
  struct Deleter {
    T* p;
    explicit Deleter(T* q) noexcept : p(q) {}
    Deleter(Deleter&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
    Deleter& operator=(Deleter&&) = delete;
    ~Deleter() { delete p; }
    void operator()() { delete std::exchange(p, nullptr); }
  };
  return std::shared_ptr<T>(new T(std::move(value)), [ex](T* p) { asio::post(ex, Deleter(p)); });
}

/// The io_context + thread behind a `Codex`, shared by every sync handle it gives out.
class SyncRuntime {
 public:
  explicit SyncRuntime(CodexConfig cfg)
      : guard_(ioc_.get_executor()), client_(ioc_.get_executor(), std::move(cfg)) {
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~SyncRuntime() {
    try {
      close();
    } catch (...) {
    }
    guard_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  /// Runs the coroutine made by `f` on the I/O thread and waits for it.
  template <class F>
  auto call(F&& f) {
    if (std::this_thread::get_id() == thread_.get_id())
      throw std::logic_error(
          "a blocking Codex call was made on the client's own I/O thread (for example from an "
          "async approval handler); use the AsyncCodex API there");
    return asio::co_spawn(ioc_, std::forward<F>(f), asio::use_future).get();
  }

  void close() {
    std::lock_guard<std::mutex> lk(close_mu_);
    if (closed_) return;
    closed_ = true;
    call([this]() -> asio::awaitable<void> { co_await client_.close(); });
  }

  AsyncCodex& client() noexcept { return client_; }
  bool closed() {
    std::lock_guard<std::mutex> lk(close_mu_);
    return closed_;
  }
  asio::any_io_executor executor() { return ioc_.get_executor(); }

 private:
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  AsyncCodex client_;
  std::thread thread_;
  std::mutex close_mu_;
  bool closed_ = false;
};

}  // namespace detail

// ---------------------------------------------------------------- TurnStream

namespace {
constexpr std::size_t kBatch = 1024;  // events fetched per hop to the I/O thread, at most
}  // namespace

TurnStream::TurnStream(std::shared_ptr<detail::SyncRuntime> rt, AsyncTurnStream stream)
    : rt_(std::move(rt)), stream_(detail::io_owned(rt_->executor(), std::move(stream))) {}
TurnStream::TurnStream(TurnStream&&) noexcept = default;
TurnStream& TurnStream::operator=(TurnStream&&) noexcept = default;
TurnStream::~TurnStream() = default;

std::optional<Notification> TurnStream::next(std::optional<std::chrono::milliseconds> timeout) {
  if (batch_pos_ < batch_.size()) return std::move(batch_[batch_pos_++]);
  if (ended_ || !stream_) return std::nullopt;
  auto s = stream_;
  batch_.clear();
  batch_pos_ = 0;
  // One hop to the I/O thread fetches the next event and everything already buffered after it,
  // into this stream's vector (moved there and back, so its capacity is kept).
  auto got =
      rt_->call([s, timeout,
                 out = std::move(batch_)]() mutable -> asio::awaitable<std::vector<Notification>> {
        auto first = co_await s->next(timeout);
        if (!first) co_return std::move(out);
        out.push_back(std::move(*first));
        while (out.size() < kBatch) {
          auto more = s->try_next();
          if (!more) break;
          out.push_back(std::move(*more));
        }
        co_return std::move(out);
      });
  batch_ = std::move(got);
  if (batch_.empty()) {
    ended_ = true;
    return std::nullopt;
  }
  return std::move(batch_[batch_pos_++]);
}

void TurnStream::close() {
  ended_ = true;
  batch_.clear();
  batch_pos_ = 0;
  stream_.reset();  // the subscription is released on the I/O thread
}

TurnResult TurnStream::result() const {
  if (!stream_) throw CodexError("the stream is closed");
  auto s = stream_;
  return rt_->call([s]() -> asio::awaitable<TurnResult> { co_return s->result(); });
}

TurnStream::iterator::iterator(TurnStream* s) : s_(s) {
  ++*this;
}

TurnStream::iterator& TurnStream::iterator::operator++() {
  if (!s_) return *this;
  cur_ = s_->next();
  if (!cur_) s_ = nullptr;
  return *this;
}

TurnStream::iterator TurnStream::begin() {
  return iterator(this);
}

// ---------------------------------------------------------------- TurnHandle

TurnHandle::TurnHandle(std::shared_ptr<detail::SyncRuntime> rt, AsyncTurnHandle h)
    : rt_(std::move(rt)), h_(detail::io_owned(rt_->executor(), std::move(h))) {}

json::object TurnHandle::steer(Input input, CallOptions opts) {
  auto h = h_;
  return rt_->call(
      [h, input = std::move(input), opts]() mutable { return h->steer(std::move(input), opts); });
}

json::object TurnHandle::interrupt(CallOptions opts) {
  auto h = h_;
  return rt_->call([h, opts]() mutable { return h->interrupt(opts); });
}

TurnStream TurnHandle::stream() {
  auto h = h_;
  auto s = rt_->call([h]() mutable -> asio::awaitable<AsyncTurnStream> { co_return h->stream(); });
  return TurnStream(rt_, std::move(s));
}

TurnResult TurnHandle::run(EventObserver on_event) {
  auto h = h_;
  return rt_->call([h, f = std::move(on_event)]() mutable { return h->run(std::move(f)); });
}

TurnResult TurnHandle::collect(EventObserver on_event) {
  auto h = h_;
  return rt_->call([h, f = std::move(on_event)]() mutable { return h->collect(std::move(f)); });
}

// ---------------------------------------------------------------- Thread

Thread::Thread(std::shared_ptr<detail::SyncRuntime> rt, AsyncThread t)
    : rt_(std::move(rt)), t_(std::move(t)) {}

TurnResult Thread::run(Input input, TurnOptions opts, EventObserver on_event) {
  auto t = t_;
  return rt_->call(
      [t, input = std::move(input), opts = std::move(opts), f = std::move(on_event)]() mutable {
        return t.run(std::move(input), std::move(opts), std::move(f));
      });
}

TurnHandle Thread::turn(Input input, TurnOptions opts) {
  auto t = t_;
  auto h = rt_->call([t, input = std::move(input), opts = std::move(opts)]() mutable {
    return t.turn(std::move(input), std::move(opts));
  });
  return TurnHandle(rt_, std::move(h));
}

std::optional<TurnHandle> Thread::last_turn(CallOptions opts) {
  auto t = t_;
  auto h = rt_->call([t, opts]() mutable { return t.last_turn(opts); });
  if (!h) return std::nullopt;
  return TurnHandle(rt_, std::move(*h));
}

json::object Thread::read(ReadOptions opts) {
  auto t = t_;
  return rt_->call([t, opts]() mutable { return t.read(opts); });
}

json::object Thread::set_name(std::string name, CallOptions opts) {
  auto t = t_;
  return rt_->call(
      [t, name = std::move(name), opts]() mutable { return t.set_name(std::move(name), opts); });
}

json::object Thread::compact(CallOptions opts) {
  auto t = t_;
  return rt_->call([t, opts]() mutable { return t.compact(opts); });
}

// ---------------------------------------------------------------- login handles

ChatgptLoginHandle::ChatgptLoginHandle(std::shared_ptr<detail::SyncRuntime> rt,
                                       AsyncChatgptLoginHandle h)
    : rt_(std::move(rt)), h_(std::move(h)) {}
LoginCompleted ChatgptLoginHandle::wait(std::optional<std::chrono::milliseconds> timeout) {
  auto h = h_;
  return rt_->call([h, timeout]() mutable { return h.wait(timeout); });
}
CancelLoginResponse ChatgptLoginHandle::cancel(CallOptions opts) {
  auto h = h_;
  return rt_->call([h, opts]() mutable { return h.cancel(opts); });
}

DeviceCodeLoginHandle::DeviceCodeLoginHandle(std::shared_ptr<detail::SyncRuntime> rt,
                                             AsyncDeviceCodeLoginHandle h)
    : rt_(std::move(rt)), h_(std::move(h)) {}
LoginCompleted DeviceCodeLoginHandle::wait(std::optional<std::chrono::milliseconds> timeout) {
  auto h = h_;
  return rt_->call([h, timeout]() mutable { return h.wait(timeout); });
}
CancelLoginResponse DeviceCodeLoginHandle::cancel(CallOptions opts) {
  auto h = h_;
  return rt_->call([h, opts]() mutable { return h.cancel(opts); });
}

// ---------------------------------------------------------------- Codex

Codex::Codex(CodexConfig config) : rt_(std::make_shared<detail::SyncRuntime>(std::move(config))) {
  auto* c = &rt_->client();
  try {
    rt_->call([c]() { return c->start(); });
  } catch (...) {
    rt_.reset();  // closes and joins
    throw;
  }
}

Codex::Codex(Codex&&) noexcept = default;
Codex& Codex::operator=(Codex&& o) noexcept {
  if (this != &o) {
    if (rt_) {
      try {
        rt_->close();
      } catch (...) {
      }
    }
    rt_ = std::move(o.rt_);
  }
  return *this;
}
Codex::~Codex() {
  // Close now even if threads or turn handles outlive the client: they then fail with
  // TransportClosedError, and the I/O thread ends when the last of them goes.
  if (rt_) {
    try {
      rt_->close();
    } catch (...) {
    }
  }
}

const InitializeResponse& Codex::metadata() const {
  return rt_->client().metadata();
}

void Codex::close() {
  if (rt_) rt_->close();
}

void Codex::reconnect() {
  if (!rt_ || rt_->closed()) throw TransportClosedError("the client is closed");
  auto* c = &rt_->client();
  rt_->call([c]() -> asio::awaitable<void> { co_await c->reconnect(); });
}

void Codex::login_api_key(std::string api_key, CallOptions opts) {
  auto* c = &rt_->client();
  rt_->call(
      [c, k = std::move(api_key), opts]() mutable { return c->login_api_key(std::move(k), opts); });
}

ChatgptLoginHandle Codex::login_chatgpt(CallOptions opts) {
  auto* c = &rt_->client();
  return ChatgptLoginHandle(rt_, rt_->call([c, opts]() { return c->login_chatgpt(opts); }));
}

DeviceCodeLoginHandle Codex::login_chatgpt_device_code(CallOptions opts) {
  auto* c = &rt_->client();
  return DeviceCodeLoginHandle(
      rt_, rt_->call([c, opts]() { return c->login_chatgpt_device_code(opts); }));
}

AccountInfo Codex::account(AccountOptions opts) {
  auto* c = &rt_->client();
  return rt_->call([c, opts]() { return c->account(opts); });
}

void Codex::logout(CallOptions opts) {
  auto* c = &rt_->client();
  rt_->call([c, opts]() { return c->logout(opts); });
}

Thread Codex::thread_start(ThreadStartOptions opts) {
  auto* c = &rt_->client();
  return Thread(rt_, rt_->call([c, opts = std::move(opts)]() mutable {
    return c->thread_start(std::move(opts));
  }));
}

json::object Codex::thread_list(ThreadListOptions opts) {
  auto* c = &rt_->client();
  return rt_->call(
      [c, opts = std::move(opts)]() mutable { return c->thread_list(std::move(opts)); });
}

Thread Codex::thread_resume(std::string thread_id, ThreadResumeOptions opts) {
  auto* c = &rt_->client();
  return Thread(rt_, rt_->call([c, id = std::move(thread_id), opts = std::move(opts)]() mutable {
    return c->thread_resume(std::move(id), std::move(opts));
  }));
}

Thread Codex::thread_fork(std::string thread_id, ThreadForkOptions opts) {
  auto* c = &rt_->client();
  return Thread(rt_, rt_->call([c, id = std::move(thread_id), opts = std::move(opts)]() mutable {
    return c->thread_fork(std::move(id), std::move(opts));
  }));
}

json::object Codex::thread_archive(std::string thread_id, CallOptions opts) {
  auto* c = &rt_->client();
  return rt_->call([c, id = std::move(thread_id), opts]() mutable {
    return c->thread_archive(std::move(id), opts);
  });
}

Thread Codex::thread_unarchive(std::string thread_id, CallOptions opts) {
  auto* c = &rt_->client();
  return Thread(rt_, rt_->call([c, id = std::move(thread_id), opts]() mutable {
    return c->thread_unarchive(std::move(id), opts);
  }));
}

json::object Codex::models(ModelsOptions opts) {
  auto* c = &rt_->client();
  return rt_->call([c, opts = std::move(opts)]() mutable { return c->models(std::move(opts)); });
}

TurnHandle Codex::turn_handle(std::string thread_id, std::string turn_id) {
  auto* c = &rt_->client();
  auto h = rt_->call([c, a = std::move(thread_id),
                      b = std::move(turn_id)]() mutable -> asio::awaitable<AsyncTurnHandle> {
    co_return c->turn_handle(std::move(a), std::move(b));
  });
  return TurnHandle(rt_, std::move(h));
}

json::value Codex::request(std::string method, json::value params, CallOptions opts) {
  auto* c = &rt_->client();
  return rt_->call([c, m = std::move(method), p = std::move(params), opts]() mutable {
    return c->request(std::move(m), std::move(p), opts);
  });
}

Notification Codex::next_event(std::optional<std::chrono::milliseconds> timeout) {
  auto* c = &rt_->client();
  return rt_->call([c, timeout]() { return c->next_event(timeout); });
}

std::size_t Codex::dropped_events() const {
  auto* c = &rt_->client();
  return rt_->call([c]() -> asio::awaitable<std::size_t> { co_return c->dropped_events(); });
}

boost::asio::any_io_executor Codex::executor() const {
  return rt_->executor();
}

AsyncCodex& Codex::async_client() {
  return rt_->client();
}

}  // namespace codex
