// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file async_codex.hpp
/// @brief `AsyncCodex`: the coroutine client (`boost::asio::awaitable<T>` everywhere).
///
/// @par Threading
/// An `AsyncCodex` and everything it hands out (threads, turn handles, streams, login handles)
/// live on the executor given to the constructor. Call them from coroutines running on that
/// executor; if the `io_context` runs on several threads, give the client a strand
/// (`AsyncCodex(asio::make_strand(ioc))`) and run your coroutines on the same strand. No hidden
/// threads are started (a plain-function approval handler runs on a small pool).
///
/// @par Per-operation cancellation
/// Every awaitable honours terminal cancellation (e.g. `op() || timer.async_wait(...)`, or a
/// bound cancellation slot). Cancelling a request abandons its slot (a late response is
/// dropped); cancelling `stream().next()` or `run()` stops watching the turn (the turn goes on;
/// `interrupt()` ends it); `close()` ends the process. The client stays usable after a cancel.

#include <codex/config.hpp>
#include <codex/inputs.hpp>
#include <codex/options.hpp>
#include <codex/results.hpp>
#include <codex/turn.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace codex {

namespace detail {
class Engine;
struct TurnCore;
class Subscription;
struct ResultBuilder;
}  // namespace detail

template <class T>
using awaitable = boost::asio::awaitable<T>;

/// Called with every event of a turn while `run()`/`collect()` reads it.
using EventObserver = std::function<void(const Notification&)>;

/// One consumer's view of a turn's events. Every stream of a turn sees every event (from the
/// start of the turn when opened before reading began). It ends after the turn's
/// `turn/completed`.
class AsyncTurnStream {
 public:
  AsyncTurnStream() = default;
  explicit AsyncTurnStream(std::shared_ptr<detail::Subscription> sub) noexcept;
  AsyncTurnStream(AsyncTurnStream&&) noexcept;
  AsyncTurnStream& operator=(AsyncTurnStream&&) noexcept;
  ~AsyncTurnStream();

  /// The next event, or `std::nullopt` after `turn/completed` was delivered. Throws
  /// `TransportClosedError` if the connection dies before the turn completes, and
  /// `TimeoutError` if `timeout` passes with no event (the stream stays usable).
  awaitable<std::optional<Notification>> next(
      std::optional<std::chrono::milliseconds> timeout = {});
  /// An event that is already buffered, without waiting (nullopt if none).
  std::optional<Notification> try_next();
  /// True once the stream delivered `turn/completed` (or was closed).
  bool done() const noexcept;
  /// The turn's result, built from the events this stream yielded (items, usage, status,
  /// final_response). Throws `CodexError` before `turn/completed` was yielded.
  TurnResult result() const;

  /// Stops reading (other consumers go on; the turn goes on).
  void close() noexcept;

 private:
  std::shared_ptr<detail::Subscription> sub_;
  std::unique_ptr<detail::ResultBuilder> builder_;
};

/// A started turn: stream it, steer it, interrupt it, or collect its result.
class AsyncTurnHandle {
 public:
  AsyncTurnHandle() = default;
  AsyncTurnHandle(std::shared_ptr<detail::Engine> engine, std::shared_ptr<detail::TurnCore> core);

  const std::string& id() const noexcept;
  const std::string& thread_id() const noexcept;

  /// Adds input to the running turn (`turn/steer`). Throws `InvalidRequestError` ("no active
  /// turn to steer") when the turn is over.
  awaitable<boost::json::object> steer(Input input, CallOptions opts = {});
  /// Asks the server to stop the turn (`turn/interrupt`); the turn then completes `interrupted`.
  awaitable<boost::json::object> interrupt(CallOptions opts = {});
  /// This turn's events, in order, ending after `turn/completed`.
  AsyncTurnStream stream();
  /// Reads the turn to its end; throws `TurnFailedError` when it failed. `on_event`, when
  /// given, sees every event first (e.g. to print deltas as they arrive).
  awaitable<TurnResult> run(EventObserver on_event = {});
  /// Reads the turn to its end and returns the result whatever the status.
  awaitable<TurnResult> collect(EventObserver on_event = {});

 private:
  std::shared_ptr<detail::Engine> engine_;
  std::shared_ptr<detail::TurnCore> core_;
};

/// A thread (conversation). Cheap to copy.
class AsyncThread {
 public:
  AsyncThread() = default;
  AsyncThread(std::shared_ptr<detail::Engine> engine, std::string id,
              boost::json::object response = {});

  const std::string& id() const noexcept { return id_; }
  /// The `thread/start|resume|fork|unarchive` response that made this handle (empty otherwise).
  const boost::json::object& response() const noexcept { return response_; }

  /// Starts a turn and reads it to its end (`turn(...)` then `run()`).
  awaitable<TurnResult> run(Input input, TurnOptions opts = {}, EventObserver on_event = {});
  /// Starts a turn (`turn/start`) and returns its handle at once.
  awaitable<AsyncTurnHandle> turn(Input input, TurnOptions opts = {});
  /// `thread/read`.
  awaitable<boost::json::object> read(ReadOptions opts = {});
  /// `thread/name/set`.
  awaitable<boost::json::object> set_name(std::string name, CallOptions opts = {});
  /// `thread/compact/start` (returns at once; the compaction runs as a turn).
  awaitable<boost::json::object> compact(CallOptions opts = {});

 private:
  std::shared_ptr<detail::Engine> engine_;
  std::string id_;
  boost::json::object response_;
};

/// A pending ChatGPT browser login.
class AsyncChatgptLoginHandle {
 public:
  AsyncChatgptLoginHandle() = default;
  AsyncChatgptLoginHandle(std::shared_ptr<detail::Engine> engine, std::string login_id,
                          std::string auth_url);
  const std::string& login_id() const noexcept { return login_id_; }
  const std::string& auth_url() const noexcept { return auth_url_; }
  /// Waits for this login's `account/login/completed` (no deadline unless given).
  awaitable<LoginCompleted> wait(std::optional<std::chrono::milliseconds> timeout = {});
  /// `account/login/cancel`.
  awaitable<CancelLoginResponse> cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::Engine> engine_;
  std::string login_id_;
  std::string auth_url_;
};

/// A pending device-code login.
class AsyncDeviceCodeLoginHandle {
 public:
  AsyncDeviceCodeLoginHandle() = default;
  AsyncDeviceCodeLoginHandle(std::shared_ptr<detail::Engine> engine, std::string login_id,
                             std::string verification_url, std::string user_code);
  const std::string& login_id() const noexcept { return login_id_; }
  const std::string& verification_url() const noexcept { return verification_url_; }
  const std::string& user_code() const noexcept { return user_code_; }
  awaitable<LoginCompleted> wait(std::optional<std::chrono::milliseconds> timeout = {});
  awaitable<CancelLoginResponse> cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::Engine> engine_;
  std::string login_id_;
  std::string verification_url_;
  std::string user_code_;
};

/// The coroutine client. Starts `codex app-server` lazily on the first call (or on `start()`),
/// and ends it on `close()` or, at the latest, in the destructor.
class AsyncCodex {
 public:
  using executor_type = boost::asio::any_io_executor;

  explicit AsyncCodex(executor_type executor, CodexConfig config = {});
  AsyncCodex(AsyncCodex&&) noexcept;
  AsyncCodex& operator=(AsyncCodex&&) noexcept;
  /// Kills the child (terminate, then kill) if `close()` was not awaited.
  ~AsyncCodex();

  executor_type get_executor() const noexcept;

  /// Spawns the server and runs `initialize`. Concurrent first calls start it once.
  awaitable<void> start();
  /// The checked `initialize` result. Throws `CodexError` before `start()` completed.
  const InitializeResponse& metadata() const;
  /// Ends the server (close stdin, SIGTERM, wait `shutdown_timeout`, SIGKILL). Pending calls fail
  /// with `TransportClosedError`. Final: later calls fail too.
  awaitable<void> close();

  awaitable<void> login_api_key(std::string api_key, CallOptions opts = {});
  awaitable<AsyncChatgptLoginHandle> login_chatgpt(CallOptions opts = {});
  awaitable<AsyncDeviceCodeLoginHandle> login_chatgpt_device_code(CallOptions opts = {});
  awaitable<AccountInfo> account(AccountOptions opts = {});
  awaitable<void> logout(CallOptions opts = {});

  awaitable<AsyncThread> thread_start(ThreadStartOptions opts = {});
  awaitable<boost::json::object> thread_list(ThreadListOptions opts = {});
  awaitable<AsyncThread> thread_resume(std::string thread_id, ThreadResumeOptions opts = {});
  awaitable<AsyncThread> thread_fork(std::string thread_id, ThreadForkOptions opts = {});
  awaitable<boost::json::object> thread_archive(std::string thread_id, CallOptions opts = {});
  awaitable<AsyncThread> thread_unarchive(std::string thread_id, CallOptions opts = {});
  awaitable<boost::json::object> models(ModelsOptions opts = {});

  /// A handle for a turn id this client did not start (for example one started by
  /// `thread.compact()`): it sees the turn's events still buffered and all later ones. For a turn
  /// that completed before the handle existed, use `thread.read({.include_turns = true})`.
  AsyncTurnHandle turn_handle(std::string thread_id, std::string turn_id);

  /// Any other method: sends `method` with `params` and returns the result.
  awaitable<boost::json::value> request(std::string method, boost::json::value params = nullptr,
                                        CallOptions opts = {});

  /// The next client-level event: notifications without a turn id (thread, account and
  /// config notifications, warnings, ...) and server requests without a turn. At most
  /// `Limits::max_client_events` are kept; older ones are dropped (see `dropped_events()`).
  awaitable<Notification> next_event(std::optional<std::chrono::milliseconds> timeout = {});
  /// Client-level events dropped because nobody read them in time.
  std::size_t dropped_events() const noexcept;

 private:
  std::shared_ptr<detail::Engine> engine_;
};

}  // namespace codex
