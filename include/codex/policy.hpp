// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file policy.hpp
/// @brief `ApprovalMode` and `Sandbox` presets and their exact wire mappings.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string_view>

namespace codex {

/// Who decides when Codex wants to run a command or apply a patch. Each mode is sent as
/// `approvalPolicy` and `approvalsReviewer` (`apply_approval_mode`).
///
/// `auto_review` and `deny_all` are the Python SDK's modes; the `ask_client*` modes route the
/// requests to the approval handler (fail-closed when there is none).
enum class ApprovalMode {
  /// `approvalPolicy: "on-request"`, `approvalsReviewer: "auto_review"`: the server's reviewer
  /// decides; no request reaches the client.
  auto_review,
  /// `approvalPolicy: "never"` (no reviewer sent): nothing is ever approved; no request reaches
  /// the client.
  deny_all,
  /// `approvalPolicy: "on-request"`, `approvalsReviewer: "user"`: the escalations the model asks
  /// for reach the client's approval handler.
  ask_client,
  /// `approvalPolicy: "untrusted"`, `approvalsReviewer: "user"`: every command not known to be
  /// safe, and every patch, reaches the client's approval handler.
  ask_client_untrusted,
  /// Nothing sent: whatever the server's configuration says.
  server_default,
};

/// Sandbox presets (thread: `sandbox`; turn: `sandboxPolicy`).
enum class Sandbox {
  read_only,        ///< read files, no writes
  workspace_write,  ///< read files, write inside the workspace and writable roots
  full_access,      ///< no filesystem restrictions
};

/// The enumerator's name, e.g. `"auto_review"` (`"unknown"` for a value outside the enum).
std::string_view to_string(ApprovalMode m) noexcept;
/// The enumerator's name, e.g. `"workspace_write"` (`"unknown"` for a value outside the enum).
std::string_view to_string(Sandbox s) noexcept;

/// Adds `approvalPolicy`/`approvalsReviewer` for `m` to `params` (nothing for server_default).
/// Throws `std::invalid_argument` for a value outside the enum.
void apply_approval_mode(boost::json::object& params, ApprovalMode m);
/// The thread-level `sandbox` string: `read-only`, `workspace-write`, `danger-full-access`.
std::string_view sandbox_mode_wire(Sandbox s) noexcept;
/// The turn-level `sandboxPolicy` object (with the model defaults the Python SDK sends: no
/// network access, no extra writable roots). Throws `std::invalid_argument` for a value outside
/// the enum.
boost::json::object sandbox_policy_wire(Sandbox s);

}  // namespace codex
