// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file codex_sync.hpp
/// @brief `Codex`: the blocking client. The same methods as `AsyncCodex`; it owns an
/// `io_context` serviced by one internal thread, so notifications and approvals are handled while
/// the caller is busy. Thread-safe: any thread may call any method.

#include <codex/async_codex.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

namespace codex {

namespace detail {
class SyncRuntime;
}

/// A blocking stream of one turn's events, usable in a range-for:
/// `for (const Notification& ev : handle.stream()) ...`. It ends after `turn/completed`.
class TurnStream {
 public:
  TurnStream(std::shared_ptr<detail::SyncRuntime> rt, AsyncTurnStream stream);
  TurnStream(TurnStream&&) noexcept;
  TurnStream& operator=(TurnStream&&) noexcept;
  ~TurnStream();
  TurnStream(const TurnStream&) = delete;
  TurnStream& operator=(const TurnStream&) = delete;

  /// The next event (blocking), or nullopt at the end. A timeout throws `TimeoutError` and
  /// leaves the stream usable.
  std::optional<Notification> next(std::optional<std::chrono::milliseconds> timeout = {});

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Notification;
    using difference_type = std::ptrdiff_t;
    using pointer = Notification*;
    using reference = Notification&;

    iterator() = default;
    explicit iterator(TurnStream* s);
    reference operator*() const { return *cur_; }
    pointer operator->() const { return &*cur_; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.s_ == b.s_; }

   private:
    TurnStream* s_ = nullptr;
    mutable std::optional<Notification> cur_;
  };

  iterator begin();
  iterator end() noexcept { return {}; }
  /// The turn's result, built from the events this stream yielded (after the end).
  TurnResult result() const;
  /// Stops reading (the turn goes on).
  void close();

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  std::shared_ptr<AsyncTurnStream> stream_;  // destroyed on the I/O thread
  std::deque<Notification> batch_;
  bool ended_ = false;
};

/// Blocking twin of `AsyncTurnHandle`.
class TurnHandle {
 public:
  TurnHandle(std::shared_ptr<detail::SyncRuntime> rt, AsyncTurnHandle h);
  const std::string& id() const noexcept { return h_->id(); }
  const std::string& thread_id() const noexcept { return h_->thread_id(); }
  boost::json::object steer(Input input, CallOptions opts = {});
  boost::json::object interrupt(CallOptions opts = {});
  TurnStream stream();
  /// Reads to the end; throws `TurnFailedError` when the turn failed. `on_event` sees every
  /// event first; it runs on the client's I/O thread, so keep it short and do not call the
  /// client from it.
  TurnResult run(EventObserver on_event = {});
  /// Reads to the end; returns the result whatever the status.
  TurnResult collect(EventObserver on_event = {});
  /// The async handle (use it on `Codex::executor()`).
  const AsyncTurnHandle& async_handle() const noexcept { return *h_; }

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  std::shared_ptr<AsyncTurnHandle> h_;  // destroyed on the I/O thread
};

/// Blocking twin of `AsyncThread`.
class Thread {
 public:
  Thread(std::shared_ptr<detail::SyncRuntime> rt, AsyncThread t);
  const std::string& id() const noexcept { return t_.id(); }
  const boost::json::object& response() const noexcept { return t_.response(); }
  TurnResult run(Input input, TurnOptions opts = {}, EventObserver on_event = {});
  TurnHandle turn(Input input, TurnOptions opts = {});
  boost::json::object read(ReadOptions opts = {});
  boost::json::object set_name(std::string name, CallOptions opts = {});
  boost::json::object compact(CallOptions opts = {});

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  AsyncThread t_;
};

/// Blocking twin of `AsyncChatgptLoginHandle`.
class ChatgptLoginHandle {
 public:
  ChatgptLoginHandle(std::shared_ptr<detail::SyncRuntime> rt, AsyncChatgptLoginHandle h);
  const std::string& login_id() const noexcept { return h_.login_id(); }
  const std::string& auth_url() const noexcept { return h_.auth_url(); }
  LoginCompleted wait(std::optional<std::chrono::milliseconds> timeout = {});
  CancelLoginResponse cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  AsyncChatgptLoginHandle h_;
};

/// Blocking twin of `AsyncDeviceCodeLoginHandle`.
class DeviceCodeLoginHandle {
 public:
  DeviceCodeLoginHandle(std::shared_ptr<detail::SyncRuntime> rt, AsyncDeviceCodeLoginHandle h);
  const std::string& login_id() const noexcept { return h_.login_id(); }
  const std::string& verification_url() const noexcept { return h_.verification_url(); }
  const std::string& user_code() const noexcept { return h_.user_code(); }
  LoginCompleted wait(std::optional<std::chrono::milliseconds> timeout = {});
  CancelLoginResponse cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  AsyncDeviceCodeLoginHandle h_;
};

/// The blocking client. Construction starts the server and initializes (eagerly, like the
/// Python SDK); a failure there throws and leaves nothing running. The destructor closes.
class Codex {
 public:
  explicit Codex(CodexConfig config = {});
  Codex(Codex&&) noexcept;
  Codex& operator=(Codex&&) noexcept;
  ~Codex();

  const InitializeResponse& metadata() const;
  /// Ends the server; idempotent.
  void close();

  void login_api_key(std::string api_key, CallOptions opts = {});
  ChatgptLoginHandle login_chatgpt(CallOptions opts = {});
  DeviceCodeLoginHandle login_chatgpt_device_code(CallOptions opts = {});
  AccountInfo account(AccountOptions opts = {});
  void logout(CallOptions opts = {});

  Thread thread_start(ThreadStartOptions opts = {});
  boost::json::object thread_list(ThreadListOptions opts = {});
  Thread thread_resume(std::string thread_id, ThreadResumeOptions opts = {});
  Thread thread_fork(std::string thread_id, ThreadForkOptions opts = {});
  boost::json::object thread_archive(std::string thread_id, CallOptions opts = {});
  Thread thread_unarchive(std::string thread_id, CallOptions opts = {});
  boost::json::object models(ModelsOptions opts = {});
  TurnHandle turn_handle(std::string thread_id, std::string turn_id);

  boost::json::value request(std::string method, boost::json::value params = nullptr,
                             CallOptions opts = {});
  /// The next client-level event (see `AsyncCodex::next_event`).
  Notification next_event(std::optional<std::chrono::milliseconds> timeout = {});
  std::size_t dropped_events() const;

  /// The internal executor (to use the async API on the same connection).
  boost::asio::any_io_executor executor() const;
  /// The async client this wraps (use it only from `executor()`).
  AsyncCodex& async_client();

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
};

}  // namespace codex
