// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/approvals.hpp>

#include "engine.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace codex {

namespace json = boost::json;

ServerRequestKind server_request_kind(std::string_view m) noexcept {
  if (m == "item/commandExecution/requestApproval")
    return ServerRequestKind::command_execution_approval;
  if (m == "item/fileChange/requestApproval") return ServerRequestKind::file_change_approval;
  if (m == "item/permissions/requestApproval") return ServerRequestKind::permissions_approval;
  if (m == "item/tool/requestUserInput") return ServerRequestKind::user_input;
  if (m == "mcpServer/elicitation/request") return ServerRequestKind::mcp_elicitation;
  if (m == "item/tool/call") return ServerRequestKind::dynamic_tool_call;
  if (m == "account/chatgptAuthTokens/refresh")
    return ServerRequestKind::chatgpt_auth_tokens_refresh;
  if (m == "attestation/generate") return ServerRequestKind::attestation;
  if (m == "execCommandApproval") return ServerRequestKind::legacy_exec_approval;
  if (m == "applyPatchApproval") return ServerRequestKind::legacy_patch_approval;
  return ServerRequestKind::unknown;
}

bool ServerRequest::is_approval() const noexcept {
  return kind == ServerRequestKind::command_execution_approval ||
         kind == ServerRequestKind::file_change_approval ||
         kind == ServerRequestKind::permissions_approval ||
         kind == ServerRequestKind::legacy_exec_approval ||
         kind == ServerRequestKind::legacy_patch_approval;
}

ServerReply ServerReply::with_result(json::value body) {
  ServerReply r;
  r.result = std::move(body);
  return r;
}

ServerReply ServerReply::with_error(std::int64_t code, std::string message) {
  ServerReply r;
  r.error_code = code == 0 ? -32603 : code;
  r.error_message = std::move(message);
  return r;
}

ServerReply ServerReply::decision(ApprovalDecision d) {
  const char* s = "decline";
  switch (d) {
    case ApprovalDecision::accept:
      s = "accept";
      break;
    case ApprovalDecision::accept_for_session:
      s = "acceptForSession";
      break;
    case ApprovalDecision::decline:
      s = "decline";
      break;
    case ApprovalDecision::cancel:
      s = "cancel";
      break;
  }
  return with_result(json::object{{"decision", s}});
}

ServerReply ServerReply::refuse(const ServerRequest& r) {
  switch (r.kind) {
    case ServerRequestKind::command_execution_approval:
    case ServerRequestKind::file_change_approval:
      return decision(ApprovalDecision::decline);
    case ServerRequestKind::permissions_approval:
      // Grant nothing, for this turn only.
      return with_result(json::object{{"permissions", json::object{}}, {"scope", "turn"}});
    case ServerRequestKind::user_input:
      return with_result(json::object{{"answers", json::object{}}});
    case ServerRequestKind::mcp_elicitation:
      return with_result(json::object{{"action", "decline"}});
    case ServerRequestKind::dynamic_tool_call:
      return with_result(json::object{
          {"contentItems",
           json::array{json::object{{"type", "inputText"},
                                    {"text", "this client has no handler for dynamic tools"}}}},
          {"success", false}});
    case ServerRequestKind::legacy_exec_approval:
    case ServerRequestKind::legacy_patch_approval:
      return with_result(json::object{{"decision", "denied"}});
    case ServerRequestKind::chatgpt_auth_tokens_refresh:
    case ServerRequestKind::attestation:
      return with_error(-32603, r.method + " is not supported by this client");
    case ServerRequestKind::unknown:
      break;
  }
  return with_error(-32601, "method not found: " + r.method);
}

namespace {
ServerReply approve(const ServerRequest& r) {
  switch (r.kind) {
    case ServerRequestKind::command_execution_approval:
    case ServerRequestKind::file_change_approval:
      return ServerReply::decision(ApprovalDecision::accept);
    case ServerRequestKind::permissions_approval: {
      json::value perms = json::object{};
      if (auto* p = r.params.if_contains("permissions")) perms = *p;
      return ServerReply::with_result(json::object{{"permissions", perms}, {"scope", "turn"}});
    }
    case ServerRequestKind::legacy_exec_approval:
    case ServerRequestKind::legacy_patch_approval:
      return ServerReply::with_result(json::object{{"decision", "approved"}});
    default:
      return ServerReply::refuse(r);
  }
}
}  // namespace

ApprovalHandler approve_all() {
  return ApprovalHandler(
      [](ServerRequest r) -> boost::asio::awaitable<ServerReply> { co_return approve(r); });
}

ApprovalHandler wait_for_answer(std::chrono::milliseconds timeout) {
  return ApprovalHandler([timeout](ServerRequest req) -> boost::asio::awaitable<ServerReply> {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    if (timeout.count() > 0)
      t.expires_after(timeout);
    else
      t.expires_at(boost::asio::steady_timer::time_point::max());
    // An answer from the program cancels this wait (the runner then sends nothing more).
    co_await t.async_wait(boost::asio::use_awaitable);
    co_return ServerReply::refuse(req);
  });
}

ApprovalHandler decline_all() {
  return ApprovalHandler([](ServerRequest r) -> boost::asio::awaitable<ServerReply> {
    co_return ServerReply::refuse(r);
  });
}

// ---------------------------------------------------------------- PendingRequest

const ServerRequest& PendingRequest::request() const {
  if (!state_) throw std::logic_error("empty PendingRequest");
  return state_->request;
}

bool PendingRequest::done() const noexcept {
  return state_ && state_->done.load();
}

bool PendingRequest::resolved_by_server() const noexcept {
  return state_ && state_->resolved_by_server.load();
}

bool PendingRequest::respond(ServerReply reply) const {
  if (!state_) return false;
  if (state_->done.exchange(true)) return false;
  auto st = state_;
  boost::asio::post(st->executor, [st, reply = std::move(reply)]() {
    if (auto e = st->engine.lock()) e->send_reply(st, reply);
  });
  return true;
}

}  // namespace codex
