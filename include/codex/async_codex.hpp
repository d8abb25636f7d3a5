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
/// dropped), except `turn()`: its `turn/start` goes on, and `AsyncThread::last_turn()` returns
/// the turn it started. Cancelling `stream().next()` or `run()` stops watching the turn (the turn
/// goes on; `interrupt()` ends it); `close()` ends the process. The client stays usable after a
/// cancel, including one that lands while the server starts.

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

/// The return type of every coroutine of the SDK: `boost::asio::awaitable<T>` (on
/// `boost::asio::any_io_executor`).
template <class T>
using awaitable = boost::asio::awaitable<T>;

/// Called with every event of a turn while `run()`/`collect()` reads it.
using EventObserver = std::function<void(const Notification&)>;

/// One consumer's view of a turn's events. Every stream of a turn sees every event (from the
/// start of the turn when opened before reading began). It ends after the turn's
/// `turn/completed`.
class AsyncTurnStream {
 public:
  /// An empty stream: `next()` returns nullopt at once.
  AsyncTurnStream() = default;
  /// A stream over a subscription (made by `AsyncTurnHandle::stream()`).
  explicit AsyncTurnStream(std::shared_ptr<detail::Subscription> sub) noexcept;
  /// Takes over the other stream's position; the other is left empty.
  AsyncTurnStream(AsyncTurnStream&&) noexcept;
  /// Takes over the other stream's position (this one's is released).
  AsyncTurnStream& operator=(AsyncTurnStream&&) noexcept;
  /// Stops reading, as `close()`.
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
  /// An empty handle: every call throws `std::logic_error`.
  AsyncTurnHandle() = default;
  /// Made by the client (`AsyncThread::turn()`, `AsyncCodex::turn_handle()`).
  AsyncTurnHandle(std::shared_ptr<detail::Engine> engine, std::shared_ptr<detail::TurnCore> core);

  /// The turn id (empty for an empty handle).
  const std::string& id() const noexcept;
  /// The id of the turn's thread (empty for an empty handle).
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
  /// An empty handle: every call throws `std::logic_error`.
  AsyncThread() = default;
  /// Made by the client (`thread_start()`, `thread_resume()`, `thread_fork()`,
  /// `thread_unarchive()`), with the response that made it.
  AsyncThread(std::shared_ptr<detail::Engine> engine, std::string id,
              boost::json::object response = {});

  /// The thread id.
  const std::string& id() const noexcept { return id_; }
  /// The `thread/start|resume|fork|unarchive` response that made this handle (empty otherwise).
  const boost::json::object& response() const noexcept { return response_; }

  /// Starts a turn and reads it to its end (`turn(...)` then `run()`).
  awaitable<TurnResult> run(Input input, TurnOptions opts = {}, EventObserver on_event = {});
  /// Starts a turn (`turn/start`) and returns its handle at once. Cancelling this call (or its
  /// `opts.timeout` passing) while `turn/start` is in flight stops the wait, not the request:
  /// the turn the server starts is still recorded, and `last_turn()` returns it.
  awaitable<AsyncTurnHandle> turn(Input input, TurnOptions opts = {});
  /// The latest turn started on this thread through this client, including one whose `turn()`
  /// or `run()` was cancelled while `turn/start` was in flight: waits for such a start's answer
  /// first (up to `opts.timeout`, else `CodexConfig::request_timeout`; `TimeoutError` after it).
  /// `std::nullopt` when no turn was started (or the start failed). The handle reads the turn's
  /// events from its start if they are still buffered, and can `interrupt()` it.
  awaitable<std::optional<AsyncTurnHandle>> last_turn(CallOptions opts = {});
  /// `thread/read`.
  awaitable<boost::json::object> read(ReadOptions opts = {});
  /// `thread/name/set`: names the thread `name`.
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
  /// An empty handle: `wait()` and `cancel()` throw `std::logic_error`.
  AsyncChatgptLoginHandle() = default;
  /// Made by `AsyncCodex::login_chatgpt()`.
  AsyncChatgptLoginHandle(std::shared_ptr<detail::Engine> engine, std::string login_id,
                          std::string auth_url);
  /// The login's id (`loginId`).
  const std::string& login_id() const noexcept { return login_id_; }
  /// The URL to open in a browser to log in (`authUrl`).
  const std::string& auth_url() const noexcept { return auth_url_; }
  /// Waits for this login's `account/login/completed` (no deadline unless given; a notification
  /// that arrived before the call is not lost). Throws `TimeoutError` when `timeout` passes.
  awaitable<LoginCompleted> wait(std::optional<std::chrono::milliseconds> timeout = {});
  /// `account/login/cancel` for this login.
  awaitable<CancelLoginResponse> cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::Engine> engine_;
  std::string login_id_;
  std::string auth_url_;
};

/// A pending device-code login.
class AsyncDeviceCodeLoginHandle {
 public:
  /// An empty handle: `wait()` and `cancel()` throw `std::logic_error`.
  AsyncDeviceCodeLoginHandle() = default;
  /// Made by `AsyncCodex::login_chatgpt_device_code()`.
  AsyncDeviceCodeLoginHandle(std::shared_ptr<detail::Engine> engine, std::string login_id,
                             std::string verification_url, std::string user_code);
  /// The login's id (`loginId`).
  const std::string& login_id() const noexcept { return login_id_; }
  /// Where the user enters the code (`verificationUrl`).
  const std::string& verification_url() const noexcept { return verification_url_; }
  /// The code to enter there (`userCode`).
  const std::string& user_code() const noexcept { return user_code_; }
  /// Waits for this login's `account/login/completed` (no deadline unless given; a notification
  /// that arrived before the call is not lost). Throws `TimeoutError` when `timeout` passes.
  awaitable<LoginCompleted> wait(std::optional<std::chrono::milliseconds> timeout = {});
  /// `account/login/cancel` for this login.
  awaitable<CancelLoginResponse> cancel(CallOptions opts = {});

 private:
  std::shared_ptr<detail::Engine> engine_;
  std::string login_id_;
  std::string verification_url_;
  std::string user_code_;
};

/// The coroutine client. Starts `codex app-server` lazily on the first call (or on `start()`),
/// and ends it on `close()` or, at the latest, in the destructor.
///
/// Every request throws `TimeoutError` when its deadline passes (the option's `timeout`, else
/// `CodexConfig::request_timeout`), the `JsonRpcError` subclass of an error response
/// (`make_jsonrpc_error`), `ProtocolError` for a result it cannot use, and
/// `TransportClosedError` once the connection is gone or closed (sticky). A failed start is
/// sticky too.
class AsyncCodex {
 public:
  /// The executor everything of this client runs on.
  using executor_type = boost::asio::any_io_executor;

  /// A client living on `executor`; nothing starts before `start()` or the first call.
  explicit AsyncCodex(executor_type executor, CodexConfig config = {});
  /// Takes over the other client's connection; the other may then only be destroyed or
  /// assigned to.
  AsyncCodex(AsyncCodex&&) noexcept;
  /// Ends this client's connection at once (as the destructor does), then takes over the
  /// other's.
  AsyncCodex& operator=(AsyncCodex&&) noexcept;
  /// If `close()` was not awaited, ends the server at once (a spawned child gets SIGKILL, a
  /// connection is closed); pending calls and streams fail with `TransportClosedError`.
  ~AsyncCodex();

  /// The executor given to the constructor.
  executor_type get_executor() const noexcept;

  /// Spawns the server and runs `initialize`. Concurrent first calls start it once.
  awaitable<void> start();
  /// The checked `initialize` result. Throws `CodexError` before `start()` completed.
  const InitializeResponse& metadata() const;
  /// Ends the server (close stdin, SIGTERM, wait `shutdown_timeout`, SIGKILL). Pending calls fail
  /// with `TransportClosedError`. Final: later calls fail too.
  awaitable<void> close();
  /// Replaces the connection with a new one (same `CodexConfig`: a new `codex app-server`
  /// process when the client spawns it, a new connection to `CodexConfig::endpoint`) and runs
  /// `initialize`; the old connection is closed if it is still open (also usable after
  /// `close()`). For a program that lost its
  /// server (`TransportClosedError`) and wants to go on. Nothing is replayed: threads, turn
  /// handles and streams of the old connection keep failing with `TransportClosedError`. Resume
  /// a thread with `thread_resume(id)` to work on it again, and read a turn that a surviving
  /// server is still running with `turn_handle(thread_id, turn_id)` after that resume.
  awaitable<void> reconnect();

  /// Logs in with an OpenAI API key (`account/login/start`, `type: apiKey`; the key is
  /// redacted from logs). Throws `std::invalid_argument` for an empty key.
  awaitable<void> login_api_key(std::string api_key, CallOptions opts = {});
  /// Starts a ChatGPT browser login (`account/login/start`, `type: chatgpt`): open the handle's
  /// `auth_url()`, then `wait()` for the result.
  awaitable<AsyncChatgptLoginHandle> login_chatgpt(CallOptions opts = {});
  /// Starts a ChatGPT device-code login (`type: chatgptDeviceCode`): show the handle's
  /// `verification_url()` and `user_code()`, then `wait()` for the result.
  awaitable<AsyncDeviceCodeLoginHandle> login_chatgpt_device_code(CallOptions opts = {});
  /// `account/read`: the current account, if any, and whether OpenAI auth is required.
  awaitable<AccountInfo> account(AccountOptions opts = {});
  /// `account/logout`.
  awaitable<void> logout(CallOptions opts = {});

  /// `thread/start`: a new thread. `opts.approval_handler` answers its server requests.
  awaitable<AsyncThread> thread_start(ThreadStartOptions opts = {});
  /// `thread/list`: one page of stored threads, as received (`data`, `nextCursor`; typed:
  /// `types::ThreadListResponse`).
  awaitable<boost::json::object> thread_list(ThreadListOptions opts = {});
  /// `thread/resume`: a handle on the stored thread `thread_id`. Throws `std::invalid_argument`
  /// for an empty id.
  awaitable<AsyncThread> thread_resume(std::string thread_id, ThreadResumeOptions opts = {});
  /// `thread/fork`: a new thread with a copy of `thread_id`'s history; returns the fork. Throws
  /// `std::invalid_argument` for an empty id.
  awaitable<AsyncThread> thread_fork(std::string thread_id, ThreadForkOptions opts = {});
  /// `thread/archive`: archives `thread_id`. Throws `std::invalid_argument` for an empty id.
  awaitable<boost::json::object> thread_archive(std::string thread_id, CallOptions opts = {});
  /// `thread/unarchive`: restores `thread_id` from the archive and returns its handle. Throws
  /// `std::invalid_argument` for an empty id.
  awaitable<AsyncThread> thread_unarchive(std::string thread_id, CallOptions opts = {});
  /// `model/list`: one page of the model catalog, as received (`data`, `nextCursor`; typed:
  /// `types::ModelListResponse`).
  awaitable<boost::json::object> models(ModelsOptions opts = {});

  /// A handle for a turn id this client did not start (for example one started by
  /// `thread.compact()`): it sees the turn's events still buffered and all later ones. For a turn
  /// that completed before the handle existed, use `thread.read({.include_turns = true})`.
  AsyncTurnHandle turn_handle(std::string thread_id, std::string turn_id);

  /// Any other method: sends `method` with `params` (null: none) and returns the result as
  /// received. Throws `std::invalid_argument` for an empty method.
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
