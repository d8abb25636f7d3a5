// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file approvals.hpp
/// @brief Server→client requests (approvals and the rest), the replies to them, and handlers.
///
/// The app-server asks the client before it runs a command or applies a patch (under the
/// human-in-the-loop approval modes), and for a few other things (user input, MCP elicitation,
/// dynamic tools, token refresh). Every such request gets exactly one reply. With no handler the
/// SDK fails closed: approvals are declined, other requests get a well-formed refusal.

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace codex {

/// What a server request asks for (from its method).
enum class ServerRequestKind {
  command_execution_approval,   ///< `item/commandExecution/requestApproval`
  file_change_approval,         ///< `item/fileChange/requestApproval`
  permissions_approval,         ///< `item/permissions/requestApproval`
  user_input,                   ///< `item/tool/requestUserInput`
  mcp_elicitation,              ///< `mcpServer/elicitation/request`
  dynamic_tool_call,            ///< `item/tool/call`
  chatgpt_auth_tokens_refresh,  ///< `account/chatgptAuthTokens/refresh`
  attestation,                  ///< `attestation/generate`
  legacy_exec_approval,         ///< `execCommandApproval` (v1)
  legacy_patch_approval,        ///< `applyPatchApproval` (v1)
  unknown,                      ///< any other method
};

/// Classifies a server request method.
ServerRequestKind server_request_kind(std::string_view method) noexcept;

/// A request the server sent to the client. The raw `params` are kept whole.
struct ServerRequest {
  boost::json::value id;  ///< the JSON-RPC id (an integer for the real server)
  std::string method;     ///< e.g. `item/commandExecution/requestApproval`
  ServerRequestKind kind = ServerRequestKind::unknown;  ///< `server_request_kind(method)`
  boost::json::object params;                           ///< the request's params
  std::string thread_id;                                ///< `params.threadId` (empty when absent)
  std::string turn_id;                                  ///< `params.turnId` (empty when absent)
  std::string item_id;  ///< `params.itemId` or `params.callId` (empty when absent)

  /// True for the command, file-change and permissions approvals.
  bool is_approval() const noexcept;
};

/// The decisions of the command and file-change approvals.
enum class ApprovalDecision {
  accept,              ///< run / apply it
  accept_for_session,  ///< and do not ask again for the same thing in this session
  decline,             ///< do not run it; the turn goes on (the model is told it was rejected)
  cancel,              ///< do not run it and interrupt the turn
};

/// The reply to a server request: a result body or a JSON-RPC error.
struct ServerReply {
  std::optional<boost::json::value> result;  ///< set for a result reply
  std::int64_t error_code = 0;               ///< set (non-zero) for an error reply
  std::string error_message;                 ///< the error reply's message

  /// A result reply with the given body.
  static ServerReply with_result(boost::json::value body);
  /// A JSON-RPC error reply (the item fails, the turn continues). A `code` of 0 becomes -32603.
  static ServerReply with_error(std::int64_t code, std::string message);
  /// `{"decision": ...}` for command and file-change approvals.
  static ServerReply decision(ApprovalDecision d);
  /// The fail-closed reply the SDK sends when no handler takes the request: approvals are
  /// declined, permissions are not granted, user input and elicitations are declined/empty,
  /// dynamic tool calls fail, and anything else gets a JSON-RPC error.
  static ServerReply refuse(const ServerRequest& request);
};

namespace detail {
struct PendingRequestState;
}

/// A server request waiting for its answer. It appears on the turn's stream
/// (`Notification::request`), or through `AsyncCodex::next_event()` for requests without a turn,
/// so a program can keep it, show it in a UI and answer it later from any thread — when the
/// handler waits for that (`wait_for_answer()`, or any handler that has not answered yet). With
/// no handler the request is refused at once and `respond()` returns false. The first answer
/// wins; when the program answers first, the handler's wait is cancelled.
class PendingRequest {
 public:
  /// An empty handle (`operator bool` is false; `respond()` returns false).
  PendingRequest() = default;
  /// A handle on the SDK's state of one request (made by the SDK, not by programs).
  explicit PendingRequest(std::shared_ptr<detail::PendingRequestState> state) noexcept
      : state_(std::move(state)) {}

  /// The request. Throws `std::logic_error` on an empty handle.
  const ServerRequest& request() const;
  /// Answers it (thread-safe; the reply is sent from the client's executor). Returns false if
  /// it was already answered or resolved, the client is gone, or the handle is empty.
  bool respond(ServerReply reply) const;
  /// Shorthand for `respond(ServerReply::decision(d))`.
  bool decide(ApprovalDecision d) const { return respond(ServerReply::decision(d)); }
  /// True once answered by anyone (handler, program, timeout) or resolved by the server.
  bool done() const noexcept;
  /// True when the server withdrew the request (`serverRequest/resolved` before an answer, e.g.
  /// after `turn/interrupt`).
  bool resolved_by_server() const noexcept;

  /// False for an empty handle (a `Notification` that is not a server request).
  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  std::shared_ptr<detail::PendingRequestState> state_;
};

/// A handler for server requests. Build it from either
/// - a coroutine `boost::asio::awaitable<ServerReply>(ServerRequest)`, run on the client's
///   executor (for `AsyncCodex`; it may wait as long as it likes: the reader goes on), or
/// - a plain function `ServerReply(const ServerRequest&)`, run on a separate thread so it may
///   block (for `Codex`).
/// A handler that throws produces a JSON-RPC error reply; the connection keeps working.
class ApprovalHandler {
 public:
  /// A coroutine handler, run on the client's executor.
  using async_fn = std::function<boost::asio::awaitable<ServerReply>(ServerRequest)>;
  /// A plain-function handler, run on a separate thread.
  using sync_fn = std::function<ServerReply(const ServerRequest&)>;

  /// No handler: requests are refused (`ServerReply::refuse`).
  ApprovalHandler() = default;
  /// No handler, as the default constructor.
  ApprovalHandler(std::nullptr_t) {}

  /// From a coroutine `f`: `boost::asio::awaitable<ServerReply>(ServerRequest)`.
  template <class F>
  requires std::is_invocable_r_v<boost::asio::awaitable<ServerReply>, F&, ServerRequest>
  ApprovalHandler(F f) : async_(std::move(f)) {}

  /// From a plain function `f`: `ServerReply(const ServerRequest&)`.
  template <class F>
  requires(!std::is_invocable_r_v<boost::asio::awaitable<ServerReply>, F&, ServerRequest> &&
           std::is_invocable_r_v<ServerReply, F&, const ServerRequest&>) ApprovalHandler(F f)
      : sync_(std::move(f)) {}

  /// True when a handler is set.
  explicit operator bool() const noexcept { return async_ || sync_; }
  /// The coroutine handler (empty when the handler is a plain function or unset).
  const async_fn& async_handler() const noexcept { return async_; }
  /// The plain-function handler (empty when the handler is a coroutine or unset).
  const sync_fn& sync_handler() const noexcept { return sync_; }

 private:
  async_fn async_;
  sync_fn sync_;
};

/// A ready-made policy for deferred answers: the handler waits until the program answers the
/// request through its `PendingRequest` (from the turn's stream or `next_event()`), from any
/// thread; after `timeout` (zero: never) the request is refused as with no handler.
ApprovalHandler wait_for_answer(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

/// A ready-made policy: accept every approval (commands and file changes are accepted, the
/// permissions asked for are granted for the turn, legacy v1 approvals are approved); other
/// requests are refused as with no handler. A coroutine: it never needs a pool thread.
ApprovalHandler approve_all();
/// A ready-made policy: decline every approval and refuse everything else
/// (`ServerReply::refuse`, as with no handler). A coroutine: it never needs a pool thread.
ApprovalHandler decline_all();

}  // namespace codex
