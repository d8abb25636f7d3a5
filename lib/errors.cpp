// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/errors.hpp>
#include <codex/turn.hpp>

#include <algorithm>
#include <cctype>

namespace codex {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_overloaded_string(std::string_view s) {
  auto l = lower(s);
  return l == "serveroverloaded" || l == "server_overloaded";
}

bool mentions_retry_limit(std::string_view message) {
  auto l = lower(message);
  return l.find("retry limit") != std::string::npos ||
         l.find("too many failed attempts") != std::string::npos;
}

std::string rpc_what(std::int64_t code, const std::string& message, const std::string& method) {
  std::string w;
  if (!method.empty()) w = method + ": ";
  w += "JSON-RPC error " + std::to_string(code) + ": " + message;
  return w;
}
}  // namespace

TransportClosedError::TransportClosedError(const std::string& what, std::optional<int> exit_status,
                                           std::string stderr_tail)
    : CodexError(what), exit_status_(exit_status), stderr_tail_(std::move(stderr_tail)) {}

TimeoutError::TimeoutError(std::string method, std::chrono::milliseconds timeout)
    : CodexError(method + ": no answer within " + std::to_string(timeout.count()) + " ms"),
      method_(std::move(method)),
      timeout_(timeout) {}

TimeoutError::TimeoutError(std::string method, std::chrono::milliseconds timeout,
                           const std::string& what)
    : CodexError(what), method_(std::move(method)), timeout_(timeout) {}

namespace {
std::string stall_message(const std::string& turn, std::chrono::milliseconds silent,
                          const std::string& status, const std::string& detail) {
  std::string m = "turn " + turn + ": no event for " + std::to_string(silent.count()) + " ms; ";
  if (!status.empty())
    m += "thread/read reports it " + status;
  else if (!detail.empty())
    m += "thread/read failed: " + detail;
  else
    m += "thread/read does not list it";
  return m;
}
}  // namespace

TurnStalledError::TurnStalledError(std::string turn_id, std::string thread_id,
                                   std::chrono::milliseconds silent_for, std::string server_status,
                                   std::string detail)
    : TimeoutError("turn " + turn_id + " stream", silent_for,
                   stall_message(turn_id, silent_for, server_status, detail)),
      turn_id_(std::move(turn_id)),
      thread_id_(std::move(thread_id)),
      server_status_(std::move(server_status)),
      detail_(std::move(detail)) {}

JsonRpcError::JsonRpcError(std::int64_t code, std::string message, boost::json::value data,
                           std::string method)
    : CodexError(rpc_what(code, message, method)),
      code_(code),
      message_(std::move(message)),
      data_(std::move(data)),
      method_(std::move(method)) {}

bool is_overloaded_data(const boost::json::value& data) noexcept {
  try {
    if (auto* s = data.if_string()) return is_overloaded_string(*s);
    if (auto* o = data.if_object()) {
      for (auto key : {"codexErrorInfo", "codex_error_info", "errorInfo"}) {
        if (auto* v = o->if_contains(key)) {
          if (auto* s = v->if_string()) {
            if (is_overloaded_string(*s)) return true;
          } else if (auto* io = v->if_object()) {
            for (auto& kv : *io) {
              if (is_overloaded_string(kv.key())) return true;
              if (auto* vs = kv.value().if_string(); vs && is_overloaded_string(*vs)) return true;
            }
          }
        }
      }
      for (auto& kv : *o)
        if (is_overloaded_data(kv.value())) return true;
      return false;
    }
    if (auto* a = data.if_array()) {
      for (auto& e : *a)
        if (is_overloaded_data(e)) return true;
    }
  } catch (...) {
  }
  return false;
}

std::exception_ptr make_jsonrpc_error(std::int64_t code, std::string message,
                                      boost::json::value data, std::string method) {
  switch (code) {
    case -32700:
      return std::make_exception_ptr(
          ParseError(code, std::move(message), std::move(data), std::move(method)));
    case -32600:
      return std::make_exception_ptr(
          InvalidRequestError(code, std::move(message), std::move(data), std::move(method)));
    case -32601:
      return std::make_exception_ptr(
          MethodNotFoundError(code, std::move(message), std::move(data), std::move(method)));
    case -32602:
      return std::make_exception_ptr(
          InvalidParamsError(code, std::move(message), std::move(data), std::move(method)));
    case -32603:
      return std::make_exception_ptr(
          InternalRpcError(code, std::move(message), std::move(data), std::move(method)));
    default:
      break;
  }
  if (code >= -32099 && code <= -32000) {
    // The real 0.169.0 server answers overload with -32001 and no data.
    bool busy = code == -32001 || is_overloaded_data(data);
    if (busy || mentions_retry_limit(message)) {
      if (mentions_retry_limit(message))
        return std::make_exception_ptr(
            RetryLimitExceededError(code, std::move(message), std::move(data), std::move(method)));
      return std::make_exception_ptr(
          ServerBusyError(code, std::move(message), std::move(data), std::move(method)));
    }
    return std::make_exception_ptr(
        CodexRpcError(code, std::move(message), std::move(data), std::move(method)));
  }
  return std::make_exception_ptr(
      JsonRpcError(code, std::move(message), std::move(data), std::move(method)));
}

bool is_retryable_error(const std::exception& e) noexcept {
  if (dynamic_cast<const RetryLimitExceededError*>(&e)) return false;
  if (dynamic_cast<const ServerBusyError*>(&e)) return true;
  if (auto* j = dynamic_cast<const JsonRpcError*>(&e)) return is_overloaded_data(j->data());
  if (auto* t = dynamic_cast<const TurnFailedError*>(&e)) return t->error().is_server_overloaded();
  return false;
}

bool is_retryable_error(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return is_retryable_error(ex);
  } catch (...) {
    return false;
  }
}

TurnFailedError::TurnFailedError(TurnResult result)
    : CodexError("turn " + result.id + " failed" +
                 (result.error && !result.error->message.empty() ? ": " + result.error->message
                                                                 : std::string())),
      result_(std::move(result)),
      error_(result_.error.value_or(TurnError{})) {}

}  // namespace codex
