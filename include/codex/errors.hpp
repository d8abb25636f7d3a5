// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file errors.hpp
/// @brief The exception hierarchy (mirroring the Python SDK's names) and `is_retryable_error`.
///
/// @code
/// CodexError
/// ├── TransportClosedError        the process or connection is gone (exit status, stderr tail)
/// ├── TimeoutError                a request or wait passed its deadline
/// │   └── TurnStalledError        the turn watchdog found a running turn silent
/// ├── TurnFailedError             a turn ended `failed` (carries the whole TurnResult; turn.hpp)
/// ├── ProtocolError               the server sent something the SDK cannot use
/// └── JsonRpcError                a JSON-RPC error response (code, message, data)
///     └── CodexRpcError           codes -32000..-32099 and the standard codes below
///         ├── ParseError            -32700
///         ├── InvalidRequestError   -32600 (the real server uses it for most request errors)
///         ├── MethodNotFoundError   -32601
///         ├── InvalidParamsError    -32602
///         ├── InternalRpcError      -32603
///         └── ServerBusyError       -32001 "Server overloaded; retry later." or serverOverloaded
///             └── RetryLimitExceededError
/// @endcode

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace codex {

/// Base of every error the SDK throws (bad arguments throw `std::invalid_argument`).
class CodexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The app-server process or connection is gone. Sticky: every later call fails the same way.
class TransportClosedError : public CodexError {
 public:
  /// `what` becomes `what()`; `exit_status` and `stderr_tail` as far as they are known.
  TransportClosedError(const std::string& what, std::optional<int> exit_status = std::nullopt,
                       std::string stderr_tail = {});
  /// The child's exit code (or 128+signal), when it has exited.
  std::optional<int> exit_status() const noexcept { return exit_status_; }
  /// The last lines the server wrote to stderr.
  const std::string& stderr_tail() const noexcept { return stderr_tail_; }

 private:
  std::optional<int> exit_status_;
  std::string stderr_tail_;
};

/// A request, or a wait, passed its deadline. The request's slot is released and a late response
/// is dropped; the client stays usable.
class TimeoutError : public CodexError {
 public:
  /// `what()` is `"<method>: no answer within <timeout> ms"`.
  TimeoutError(std::string method, std::chrono::milliseconds timeout);
  /// What timed out: the request's method, or a wait such as `next_event`,
  /// `account/login/completed` or `turn <id> stream`.
  const std::string& method() const noexcept { return method_; }
  /// The deadline that passed.
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

 protected:
  /// For subclasses with their own message: `what` becomes `what()`.
  TimeoutError(std::string method, std::chrono::milliseconds timeout, const std::string& what);

 private:
  std::string method_;
  std::chrono::milliseconds timeout_;
};

/// The turn inactivity watchdog (`CodexConfig::turn_inactivity_timeout`) found a turn silent:
/// no event for that long, and `thread/read` says the turn is still running (or could not
/// say). Thrown by the turn's `stream().next()`, `run()` and `collect()`; the turn goes on, and
/// the stream stays usable: call `next()` again to keep waiting (the watchdog re-arms), or
/// `interrupt()` the turn. A turn that `thread/read` reports as ended is not a stall: its
/// stream ends normally with the status the server reports.
class TurnStalledError : public TimeoutError {
 public:
  /// `what()` names the turn, the silence and the server's view of the turn.
  TurnStalledError(std::string turn_id, std::string thread_id, std::chrono::milliseconds silent_for,
                   std::string server_status, std::string detail);
  /// The silent turn.
  const std::string& turn_id() const noexcept { return turn_id_; }
  /// Its thread.
  const std::string& thread_id() const noexcept { return thread_id_; }
  /// How long the turn had been silent when the watchdog fired (the same as `timeout()`).
  std::chrono::milliseconds silent_for() const noexcept { return timeout(); }
  /// The turn's status as `thread/read` reported it (`"inProgress"`), or empty when the read
  /// failed or did not list the turn.
  const std::string& server_status() const noexcept { return server_status_; }
  /// Why the server's view is missing (the `thread/read` error), else empty.
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::string turn_id_;
  std::string thread_id_;
  std::string server_status_;
  std::string detail_;
};

/// The server sent something the SDK cannot use (e.g. a result of the wrong shape).
class ProtocolError : public CodexError {
 public:
  using CodexError::CodexError;
};

/// A JSON-RPC error response. `what()` is `"<method>: JSON-RPC error <code>: <message>"`.
class JsonRpcError : public CodexError {
 public:
  /// The error response's `code`, `message` and `data`, and the method of the failed request
  /// (`what()` leaves out the `<method>: ` prefix when it is empty).
  JsonRpcError(std::int64_t code, std::string message, boost::json::value data = nullptr,
               std::string method = {});
  /// The JSON-RPC error code.
  std::int64_t code() const noexcept { return code_; }
  /// The server's message, as sent.
  const std::string& rpc_message() const noexcept { return message_; }
  /// The error's `data`, as sent (null when absent).
  const boost::json::value& data() const noexcept { return data_; }
  /// The method of the request that failed.
  const std::string& method() const noexcept { return method_; }

 private:
  std::int64_t code_;
  std::string message_;
  boost::json::value data_;
  std::string method_;
};

/// Server-defined JSON-RPC errors (and the base of the standard-code classes).
class CodexRpcError : public JsonRpcError {
 public:
  using JsonRpcError::JsonRpcError;
};
/// -32700: the server could not parse the request.
class ParseError : public CodexRpcError {
 public:
  using CodexRpcError::CodexRpcError;
};
/// -32600: an invalid request (the real server uses it for most request errors, e.g. "no active
/// turn to steer").
class InvalidRequestError : public CodexRpcError {
 public:
  using CodexRpcError::CodexRpcError;
};
/// -32601: the server does not know the method.
class MethodNotFoundError : public CodexRpcError {
 public:
  using CodexRpcError::CodexRpcError;
};
/// -32602: the params are invalid.
class InvalidParamsError : public CodexRpcError {
 public:
  using CodexRpcError::CodexRpcError;
};
/// -32603: an internal error of the server.
class InternalRpcError : public CodexRpcError {
 public:
  using CodexRpcError::CodexRpcError;
};
/// The server is overloaded (-32001, or `codexErrorInfo: "serverOverloaded"` in the data).
class ServerBusyError : public CodexRpcError {
 public:
  using CodexRpcError::CodexRpcError;
};
/// The server gave up after retrying (a busy error whose message says so).
class RetryLimitExceededError : public ServerBusyError {
 public:
  using ServerBusyError::ServerBusyError;
};

/// Builds the exception for a JSON-RPC error response: the standard codes give their classes;
/// -32000..-32099 give `ServerBusyError` (-32001, or data saying overloaded),
/// `RetryLimitExceededError` (a message mentioning a retry limit or too many failed attempts)
/// or `CodexRpcError`; any other code gives `JsonRpcError`.
std::exception_ptr make_jsonrpc_error(std::int64_t code, std::string message,
                                      boost::json::value data = nullptr, std::string method = {});

/// True when `data` says "server overloaded" (`serverOverloaded` or `server_overloaded`, as a
/// string or inside `codexErrorInfo`/`codex_error_info`/`errorInfo`, searched recursively).
bool is_overloaded_data(const boost::json::value& data) noexcept;

/// True for transient overload: `ServerBusyError` (not `RetryLimitExceededError`: the server
/// already retried), any `JsonRpcError` whose data says overloaded, and a `TurnFailedError`
/// whose turn error says `serverOverloaded`.
bool is_retryable_error(const std::exception& e) noexcept;
/// @overload
bool is_retryable_error(const std::exception_ptr& e) noexcept;

}  // namespace codex
