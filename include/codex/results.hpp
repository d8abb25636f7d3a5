// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file results.hpp
/// @brief Events (`Notification`) and results (`TurnResult`, `InitializeResponse`, login results).

#include <codex/approvals.hpp>
#include <codex/method_name.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace codex {

/// One event from the server: a notification, or a server request awaiting an answer (then
/// `request` is set and `method` is the request's method).
struct Notification {
  MethodName method;           ///< e.g. `item/agentMessage/delta` (reads as a `std::string`)
  boost::json::object params;  ///< the params as received
  /// Set when this event is a server request (an approval, ...): answer it with
  /// `request.respond(...)` or `request.decide(...)`.
  PendingRequest request;

  /// `params.turnId`, else `params.turn.id`, else empty.
  std::string_view turn_id() const noexcept;
  /// `params.threadId`, else empty.
  std::string_view thread_id() const noexcept;
  /// `params.itemId`, else empty.
  std::string_view item_id() const noexcept;
  /// For `item/agentMessage/delta` (and the other `*Delta` notifications): `params.delta`.
  std::string_view delta() const noexcept;
  /// True for a server request.
  bool is_request() const noexcept { return static_cast<bool>(request); }
};

/// Status of a turn. `unknown` keeps a newer server's value readable (see `TurnResult`).
enum class TurnStatus {
  completed,    ///< `completed`
  interrupted,  ///< `interrupted` (after `interrupt()`)
  failed,       ///< `failed` (see `TurnResult::error`)
  in_progress,  ///< `inProgress`
  unknown,      ///< any other value, or no status
};

/// The wire string: `completed`, `interrupted`, `failed`, `inProgress`, or `unknown`.
std::string_view to_string(TurnStatus s) noexcept;
/// The status for a wire string (`unknown` for any other).
TurnStatus turn_status_from_wire(std::string_view s) noexcept;

/// A turn's error (`TurnError` on the wire).
struct TurnError {
  std::string message;  ///< `message` (empty when absent)
  /// `codexErrorInfo`: a string such as `"internalServerError"`, an object such as
  /// `{"responseTooManyFailedAttempts":{"httpStatusCode":429}}`, or null.
  boost::json::value codex_error_info;
  std::optional<std::string> additional_details;  ///< `additionalDetails`, when given
  boost::json::object raw;                        ///< the whole object, unknown fields included

  /// The kind of `codex_error_info`: the string, or the single key of the object ("" if none).
  std::string kind() const;
  /// The `httpStatusCode` inside an object `codex_error_info`, if any.
  std::optional<std::int64_t> http_status_code() const;
  /// True when the server reports overload (`serverOverloaded` anywhere in the error, as
  /// `is_overloaded_data` reads it).
  bool is_server_overloaded() const;
};

/// One `TokenUsageBreakdown` (a missing number reads as 0).
struct TokenUsageBreakdown {
  std::int64_t total_tokens = 0;              ///< `totalTokens`
  std::int64_t input_tokens = 0;              ///< `inputTokens`
  std::int64_t cached_input_tokens = 0;       ///< `cachedInputTokens`
  std::int64_t cache_write_input_tokens = 0;  ///< `cacheWriteInputTokens`
  std::int64_t output_tokens = 0;             ///< `outputTokens`
  std::int64_t reasoning_output_tokens = 0;   ///< `reasoningOutputTokens`
};

/// `ThreadTokenUsage`: `total` accumulates over the thread, `last` is the last model response.
struct ThreadTokenUsage {
  TokenUsageBreakdown total;                         ///< the thread's usage so far
  TokenUsageBreakdown last;                          ///< the last model response's usage
  std::optional<std::int64_t> model_context_window;  ///< `modelContextWindow`, when given
};

/// What `run()` returns (the Python SDK's nine fields, in its order).
struct TurnResult {
  std::string id;                            ///< the turn id
  TurnStatus status = TurnStatus::unknown;   ///< from `turn/completed`
  std::optional<TurnError> error;            ///< the turn's error, when it sent one
  std::optional<std::int64_t> started_at;    ///< Unix seconds
  std::optional<std::int64_t> completed_at;  ///< Unix seconds
  std::optional<std::int64_t> duration_ms;   ///< `durationMs`
  /// The latest `final_answer` agent message, else the latest phase-less one, else none. An
  /// empty string is an answer.
  std::optional<std::string> final_response;
  /// The turn's completed items (`item/completed`), in order; `ThreadItem` objects.
  std::vector<boost::json::object> items;
  /// The latest `thread/tokenUsage/updated` of the turn.
  std::optional<ThreadTokenUsage> usage;
  /// The raw `turn/completed` turn object.
  boost::json::object turn;
};

/// The `final_response` rule applied to a list of `ThreadItem` objects.
std::optional<std::string> final_response_from_items(const std::vector<boost::json::object>& items);

/// Parses a `ThreadTokenUsage` object (missing numbers are 0).
ThreadTokenUsage parse_token_usage(const boost::json::object& o);
/// Parses a `TurnError` object.
TurnError parse_turn_error(const boost::json::object& o);

/// The server's `initialize` result, checked and filled in.
struct InitializeResponse {
  std::string user_agent;                 ///< `userAgent`, trimmed
  std::string server_name;                ///< `serverInfo.name`, else "codex"
  std::string server_version;             ///< `serverInfo.version`, else the version in `userAgent`
  std::optional<std::string> codex_home;  ///< `codexHome`: the server's `$CODEX_HOME`
  std::optional<std::string> platform_family;  ///< `platformFamily`, e.g. `unix`
  std::optional<std::string> platform_os;      ///< `platformOs`, e.g. `linux`
  boost::json::object raw;                     ///< the whole result as received
};

/// Parses and checks an `initialize` result: the server name and version come from `serverInfo`
/// or, failing that, from `userAgent` (`<client>/<codex version> ...`); throws `ProtocolError`
/// when neither gives both.
InitializeResponse parse_initialize_response(const boost::json::object& o);

/// `account/login/completed`.
struct LoginCompleted {
  std::optional<std::string> login_id;  ///< `loginId`
  bool success = false;                 ///< `success` (false when absent)
  std::optional<std::string> error;     ///< `error`, when not empty
  boost::json::object raw;              ///< the notification's params as received
};

/// `account/login/cancel` result status.
enum class CancelLoginStatus {
  canceled,   ///< `canceled`: the login was cancelled
  not_found,  ///< `notFound`: no such login (already completed, or unknown)
  unknown,    ///< any other value, or no status
};

/// `account/login/cancel` result.
struct CancelLoginResponse {
  CancelLoginStatus status = CancelLoginStatus::unknown;  ///< from `status`
  boost::json::object raw;                                ///< the result as received
};

/// `account/read` result.
struct AccountInfo {
  /// The account (`{"type":"apiKey"}`, `{"type":"chatgpt","email",...}`, ...), if any.
  std::optional<boost::json::object> account;
  bool requires_openai_auth = false;  ///< `requiresOpenaiAuth` (false when absent)
  boost::json::object raw;            ///< the result as received
};

}  // namespace codex
