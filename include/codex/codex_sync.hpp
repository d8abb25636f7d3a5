// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file codex_sync.hpp
/// @brief `Codex`: the blocking client. The same methods as `AsyncCodex`; it owns an
/// `io_context` serviced by one internal thread, so notifications and approvals are handled while
/// the caller is busy. Thread-safe: any thread may call any method.

#include <codex/async_codex.hpp>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace codex {

namespace detail {
class SyncRuntime;
}

/// A blocking stream of one turn's events, usable in a range-for:
/// `for (const Notification& ev : handle.stream()) ...`. It ends after `turn/completed`.
class TurnStream {
 public:
  /// Made by `TurnHandle::stream()`.
  TurnStream(std::shared_ptr<detail::SyncRuntime> rt, AsyncTurnStream stream);
  /// Takes over the other stream (with its buffered events).
  TurnStream(TurnStream&&) noexcept;
  /// Takes over the other stream (this one stops reading).
  TurnStream& operator=(TurnStream&&) noexcept;
  /// Stops reading (the async stream is released on the I/O thread).
  ~TurnStream();
  TurnStream(const TurnStream&) = delete;
  TurnStream& operator=(const TurnStream&) = delete;

  /// The next event (blocking), or nullopt at the end. A timeout throws `TimeoutError` and
  /// leaves the stream usable.
  std::optional<Notification> next(std::optional<std::chrono::milliseconds> timeout = {});

  /// An input iterator over the stream's events (each step is a blocking `next()`).
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;  ///< single pass
    using value_type = Notification;                    ///< an event
    using difference_type = std::ptrdiff_t;             ///< (required by the iterator concept)
    using pointer = Notification*;                      ///< pointer to the current event
    using reference = Notification&;                    ///< the current event

    /// The end iterator.
    iterator() = default;
    /// Reads the first event of `s` (blocking); the end iterator when there is none.
    explicit iterator(TurnStream* s);
    /// The current event.
    reference operator*() const { return *cur_; }
    /// The current event's members.
    pointer operator->() const { return &*cur_; }
    /// Reads the next event (blocking); becomes the end iterator after the last one.
    iterator& operator++();
    /// Reads the next event, as the prefix form.
    void operator++(int) { ++*this; }
    /// Equal when both are the end, or both read the same stream.
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.s_ == b.s_; }

   private:
    TurnStream* s_ = nullptr;
    mutable std::optional<Notification> cur_;
  };

  /// Reads the first event (blocking); a `TimeoutError` or `TransportClosedError` propagates.
  iterator begin();
  /// The end iterator.
  iterator end() noexcept { return {}; }
  /// The turn's result, built from the events this stream yielded (after the end). Throws
  /// `CodexError` before `turn/completed` was yielded or after `close()`.
  TurnResult result() const;
  /// Stops reading (the turn goes on).
  void close();

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  std::shared_ptr<AsyncTurnStream> stream_;  // destroyed on the I/O thread
  // Events fetched by one hop to the I/O thread, read from `batch_pos_`. The vector goes to the
  // I/O thread and back with each hop, so its capacity is reused: no allocation per event.
  std::vector<Notification> batch_;
  std::size_t batch_pos_ = 0;
  bool ended_ = false;
};

/// Blocking twin of `AsyncTurnHandle`.
class TurnHandle {
 public:
  /// Made by `Thread::turn()` and `Codex::turn_handle()`.
  TurnHandle(std::shared_ptr<detail::SyncRuntime> rt, AsyncTurnHandle h);
  /// The turn id.
  const std::string& id() const noexcept { return h_->id(); }
  /// The id of the turn's thread.
  const std::string& thread_id() const noexcept { return h_->thread_id(); }
  /// Blocking `AsyncTurnHandle::steer()`.
  boost::json::object steer(Input input, CallOptions opts = {});
  /// Blocking `AsyncTurnHandle::interrupt()`.
  boost::json::object interrupt(CallOptions opts = {});
  /// This turn's events as a blocking stream (see `AsyncTurnHandle::stream()`).
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
  /// Made by the `Codex` thread methods.
  Thread(std::shared_ptr<detail::SyncRuntime> rt, AsyncThread t);
  /// The thread id.
  const std::string& id() const noexcept { return t_.id(); }
  /// The response that made this handle (see `AsyncThread::response()`).
  const boost::json::object& response() const noexcept { return t_.response(); }
  /// Starts a turn and reads it to its end; throws `TurnFailedError` when it failed. `on_event`
  /// runs on the client's I/O thread (see `TurnHandle::run()`).
  TurnResult run(Input input, TurnOptions opts = {}, EventObserver on_event = {});
  /// Starts a turn (`turn/start`) and returns its handle at once. When `opts.timeout` passes
  /// first, `TimeoutError` is thrown and the turn the server may still start is recorded for
  /// `last_turn()`.
  TurnHandle turn(Input input, TurnOptions opts = {});
  /// Blocking `AsyncThread::last_turn()`: the latest turn started on this thread through this
  /// client, including one whose `turn()` timed out while `turn/start` was in flight.
  std::optional<TurnHandle> last_turn(CallOptions opts = {});
  /// Blocking `AsyncThread::read()` (`thread/read`).
  boost::json::object read(ReadOptions opts = {});
  /// Blocking `AsyncThread::set_name()` (`thread/name/set`).
  boost::json::object set_name(std::string name, CallOptions opts = {});
  /// Blocking `AsyncThread::compact()` (`thread/compact/start`).
  boost::json::object compact(CallOptions opts = {});

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  AsyncThread t_;
};

/// Blocking twin of `AsyncChatgptLoginHandle`.
class ChatgptLoginHandle {
 public:
  /// Made by `Codex::login_chatgpt()`.
  ChatgptLoginHandle(std::shared_ptr<detail::SyncRuntime> rt, AsyncChatgptLoginHandle h);
  /// The login's id (`loginId`).
  const std::string& login_id() const noexcept { return h_.login_id(); }
  /// The URL to open in a browser to log in (`authUrl`).
  const std::string& auth_url() const noexcept { return h_.auth_url(); }
  /// Blocks until this login's `account/login/completed` (no deadline unless given).
  LoginCompleted wait(std::optional<std::chrono::milliseconds> timeout = {});
  /// `account/login/cancel` for this login.
  CancelLoginResponse cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  AsyncChatgptLoginHandle h_;
};

/// Blocking twin of `AsyncDeviceCodeLoginHandle`.
class DeviceCodeLoginHandle {
 public:
  /// Made by `Codex::login_chatgpt_device_code()`.
  DeviceCodeLoginHandle(std::shared_ptr<detail::SyncRuntime> rt, AsyncDeviceCodeLoginHandle h);
  /// The login's id (`loginId`).
  const std::string& login_id() const noexcept { return h_.login_id(); }
  /// Where the user enters the code (`verificationUrl`).
  const std::string& verification_url() const noexcept { return h_.verification_url(); }
  /// The code to enter there (`userCode`).
  const std::string& user_code() const noexcept { return h_.user_code(); }
  /// Blocks until this login's `account/login/completed` (no deadline unless given).
  LoginCompleted wait(std::optional<std::chrono::milliseconds> timeout = {});
  /// `account/login/cancel` for this login.
  CancelLoginResponse cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
  AsyncDeviceCodeLoginHandle h_;
};

/// The blocking client. Construction starts the server and initializes (eagerly, like the
/// Python SDK); a failure there throws and leaves nothing running. The destructor closes.
///
/// Every method blocks the calling thread until the work is done on the client's I/O thread, and
/// throws what its `AsyncCodex` twin throws. Calling one from the I/O thread itself (an
/// `EventObserver`, a coroutine approval handler) throws `std::logic_error` instead of
/// deadlocking.
class Codex {
 public:
  /// Starts the I/O thread and the server, and runs `initialize`; throws (and leaves nothing
  /// running) when that fails.
  explicit Codex(CodexConfig config = {});
  /// Takes over the other client; the other may then only be destroyed or assigned to.
  Codex(Codex&&) noexcept;
  /// Closes this client (as `close()`), then takes over the other.
  Codex& operator=(Codex&&) noexcept;
  /// Closes (as `close()`, errors ignored) and joins the I/O thread once no handle needs it.
  /// Handles that outlive the client then fail with `TransportClosedError`.
  ~Codex();

  /// The checked `initialize` result.
  const InitializeResponse& metadata() const;
  /// Ends the server; idempotent.
  void close();
  /// Blocking `AsyncCodex::reconnect()`: a new connection (or process) with the same config.
  /// Handles made before keep failing with `TransportClosedError`; resume threads by id.
  /// Throws `TransportClosedError` after `close()`.
  void reconnect();

  /// Blocking `AsyncCodex::login_api_key()`.
  void login_api_key(std::string api_key, CallOptions opts = {});
  /// Blocking `AsyncCodex::login_chatgpt()`.
  ChatgptLoginHandle login_chatgpt(CallOptions opts = {});
  /// Blocking `AsyncCodex::login_chatgpt_device_code()`.
  DeviceCodeLoginHandle login_chatgpt_device_code(CallOptions opts = {});
  /// Blocking `AsyncCodex::account()` (`account/read`).
  AccountInfo account(AccountOptions opts = {});
  /// Blocking `AsyncCodex::logout()` (`account/logout`).
  void logout(CallOptions opts = {});

  /// Blocking `AsyncCodex::thread_start()` (`thread/start`).
  Thread thread_start(ThreadStartOptions opts = {});
  /// Blocking `AsyncCodex::thread_list()` (`thread/list`).
  boost::json::object thread_list(ThreadListOptions opts = {});
  /// Blocking `AsyncCodex::thread_resume()` (`thread/resume`).
  Thread thread_resume(std::string thread_id, ThreadResumeOptions opts = {});
  /// Blocking `AsyncCodex::thread_fork()` (`thread/fork`).
  Thread thread_fork(std::string thread_id, ThreadForkOptions opts = {});
  /// Blocking `AsyncCodex::thread_archive()` (`thread/archive`).
  boost::json::object thread_archive(std::string thread_id, CallOptions opts = {});
  /// Blocking `AsyncCodex::thread_unarchive()` (`thread/unarchive`).
  Thread thread_unarchive(std::string thread_id, CallOptions opts = {});
  /// Blocking `AsyncCodex::models()` (`model/list`).
  boost::json::object models(ModelsOptions opts = {});
  /// A handle for a turn this client did not start (see `AsyncCodex::turn_handle()`).
  TurnHandle turn_handle(std::string thread_id, std::string turn_id);

  /// Blocking `AsyncCodex::request()`: any other method.
  boost::json::value request(std::string method, boost::json::value params = nullptr,
                             CallOptions opts = {});
  /// The next client-level event (see `AsyncCodex::next_event`).
  Notification next_event(std::optional<std::chrono::milliseconds> timeout = {});
  /// Client-level events dropped because nobody read them in time.
  std::size_t dropped_events() const;

  /// The internal executor (to use the async API on the same connection).
  boost::asio::any_io_executor executor() const;
  /// The async client this wraps (use it only from `executor()`).
  AsyncCodex& async_client();

 private:
  std::shared_ptr<detail::SyncRuntime> rt_;
};

}  // namespace codex
