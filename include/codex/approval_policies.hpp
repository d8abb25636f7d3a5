// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file approval_policies.hpp
/// @brief A ready-made allow-list policy, typed views of the approval requests, and the replies
/// that carry a payload (execpolicy and network amendments, permission grants, user-input
/// answers, elicitation results, dynamic tool results).
///
/// @code
/// codex::CodexConfig cfg;
/// cfg.approval_handler = codex::allow_commands({.command_prefixes = {"git status", "ls"},
///                                               .cwd_roots = {"/home/me/project"}});
/// @endcode
///
/// Everything here is pure: no I/O but path normalization, no Asio in this header.

#include <codex/approvals.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace codex {

/// What `allow_commands()` lets through. Everything not listed is declined.
struct AllowList {
  /// A command is accepted when every inner command starts with one of these at a word boundary
  /// (`"git status"` allows `git status -s`, not `git statusx` nor `git stash`). Empty entries
  /// are ignored.
  std::vector<std::string> command_prefixes;
  /// When not empty, the command's `cwd` must be inside one of these directories (compared on
  /// normalized absolute paths; symlinks of existing parts are resolved).
  std::vector<std::string> cwd_roots;
  /// Accept file changes whose every path (and move target) is inside one of `cwd_roots`.
  bool allow_file_changes_under_roots = false;
};

/// The reply `allow_commands(list)` gives to `request`:
/// - a command approval is accepted when it is a plain command (`kind` absent or `"command"`, no
///   network context, no extra permissions), every inner command matches a prefix, neither an
///   inner command nor the whole command has a shell operator (see `has_shell_operators`), and
///   the cwd rule holds; otherwise it is declined;
/// - a file-change approval is accepted when `allow_file_changes_under_roots` is set and every
///   changed path is under a root. The paths come from `params.changes` or, when the server does
///   not send them (0.169.0 does not), from `file_change_item` — the `fileChange` item of the
///   preceding `item/started` with the same id. With no paths known it is declined;
/// - anything else gets `ServerReply::refuse(request)`.
ServerReply allow_list_reply(const AllowList& list, const ServerRequest& request,
                             const boost::json::object* file_change_item = nullptr);

/// A handler applying `allow_list_reply` (a coroutine: it never blocks nor needs a pool thread).
/// It cannot see the `fileChange` item, so with servers that do not put the changes in the
/// request it declines every file change; see `allow_list_reply` for the deferred way.
ApprovalHandler allow_commands(AllowList list);

/// `inner` when `command` is ``<shell> -c '<inner>'`` or ``<shell> -lc '<inner>'`` (bash, sh,
/// zsh, by name or absolute path; the body single- or double-quoted, or unquoted); else
/// `command`.
std::string unwrap_shell_command(std::string_view command);

/// True when `command` starts with `prefix` at a word boundary (both trimmed first; an empty
/// prefix matches nothing).
bool command_matches_prefix(std::string_view command, std::string_view prefix);

/// True when `command` contains, outside quotes, a control operator, a redirection or a
/// grouping (`;` `&` `|` `<` `>` `(` `)`, a newline, a backslash-newline), a command substitution
/// (`$(` or a backtick, also inside double quotes), or an unterminated quote.
bool has_shell_operators(std::string_view command);

/// True when `path` is `root` or inside it (both made absolute-normal with
/// `std::filesystem::weakly_canonical`; a relative path is resolved against `base` when given,
/// else it is not inside anything).
bool path_is_under(std::string_view path, std::string_view root, std::string_view base = {});

/// A typed view of `item/commandExecution/requestApproval`.
struct CommandApprovalRequest {
  std::string thread_id;                   ///< `threadId` (empty when absent)
  std::string turn_id;                     ///< `turnId` (empty when absent)
  std::string item_id;                     ///< `itemId` (empty when absent)
  std::optional<std::string> approval_id;  ///< `approvalId`, when given
  /// `"command"` (default), `"writeStdin"` or `"humanCommand"`.
  std::string kind = "command";
  /// The full command line, e.g. `/bin/bash -c 'touch a.txt'` (empty when absent).
  std::string command;
  /// The working directory (empty when absent).
  std::string cwd;
  /// Why the model asks (the escalation justification), when given.
  std::optional<std::string> reason;
  /// `commandActions[].command`, or the unwrapped `command` when there are no actions.
  std::vector<std::string> inner_commands;
  /// `commandActions` as sent (`{type:"read"|"listFiles"|"search"|"unknown", command, ...}`).
  boost::json::array command_actions;
  /// `availableDecisions` as sent (strings and single-key objects); empty when absent.
  boost::json::array available_decisions;
  /// `proposedExecpolicyAmendment` (the prefix rule the server suggests).
  std::vector<std::string> proposed_execpolicy_amendment;
  /// `proposedNetworkPolicyAmendments` (`[{host, action}]`).
  boost::json::array proposed_network_policy_amendments;
  /// `networkApprovalContext` (`{host, protocol}`) when the request is about network access.
  std::optional<boost::json::object> network_approval_context;
  /// `additionalPermissions` (experimental) when the command asks for more.
  std::optional<boost::json::object> additional_permissions;

  /// True when `availableDecisions` lists `decision` (a string such as `"acceptForSession"`, or
  /// the key of an object decision such as `"acceptWithExecpolicyAmendment"`). When the server
  /// sent no list, every decision is considered offered.
  bool offers(std::string_view decision) const;

  /// The view of `request`, or nullopt when it is not a command approval.
  static std::optional<CommandApprovalRequest> from(const ServerRequest& request);
};

/// One changed file (`FileUpdateChange`).
struct FileChange {
  std::string path;                      ///< the changed file (empty when absent)
  std::string kind;                      ///< `add`, `delete`, `update`
  std::optional<std::string> move_path;  ///< the new path of a moved file
  std::string diff;                      ///< the change as a diff (empty when absent)
};

/// A typed view of `item/fileChange/requestApproval`.
struct FileChangeApprovalRequest {
  std::string thread_id;              ///< `threadId` (empty when absent)
  std::string turn_id;                ///< `turnId` (empty when absent)
  std::string item_id;                ///< `itemId` (empty when absent)
  std::optional<std::string> reason;  ///< why the model asks, when given
  /// Set when the agent asks to write under this root for the rest of the session.
  std::optional<std::string> grant_root;
  /// The changes, when known (from `params.changes` or the given `fileChange` item).
  std::vector<FileChange> changes;
  /// True when the changes were found (then `changes` is complete, possibly empty); false when
  /// neither the request nor the given item carried them.
  bool changes_known = false;

  /// The view of `request` (nullopt when it is not a file-change approval). `file_change_item`,
  /// when given and its `id` is the request's `itemId`, supplies the changes.
  static std::optional<FileChangeApprovalRequest> from(
      const ServerRequest& request, const boost::json::object* file_change_item = nullptr);
};

/// `{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":[...]}}}`: run it and
/// allow commands starting with `prefix_rule` from now on.
ServerReply accept_with_execpolicy_amendment(std::vector<std::string> prefix_rule);
/// `{"decision":{"applyNetworkPolicyAmendment":{"network_policy_amendment":{host, action}}}}`
/// (`action`: `allow` or `deny`).
ServerReply apply_network_policy_amendment(std::string host, std::string action);
/// `{"permissions": <granted subset>, "scope": "turn"|"session"}` for `item/permissions/...`.
ServerReply grant_permissions(boost::json::object permissions, std::string scope = "turn");
/// `{"answers": {<questionId>: {"answers": [...]}}}` for `item/tool/requestUserInput`.
ServerReply user_input_answers(std::map<std::string, std::vector<std::string>> answers);
/// `{"action": accept|decline|cancel, "content"?: ...}` for `mcpServer/elicitation/request`
/// (`content` is left out when null).
ServerReply elicitation(std::string action, boost::json::value content = nullptr);
/// `{"contentItems": [{"type":"inputText","text":...}...], "success": ...}` for `item/tool/call`.
ServerReply dynamic_tool_result(std::vector<std::string> texts, bool success = true);

}  // namespace codex
