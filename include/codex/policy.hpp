// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file policy.hpp
/// @brief `ApprovalMode` and `Sandbox` presets and their exact wire mappings.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string_view>

namespace codex {

/// Who decides when Codex wants to run a command or apply a patch.
///
/// | mode                   | `approvalPolicy` | `approvalsReviewer` | requests reaching the client
/// |
/// |------------------------|------------------|---------------------|------------------------------|
/// | `auto_review`          | `on-request`     | `auto_review`       | none: the server's reviewer
/// decides | | `deny_all`             | `never`          | (not sent)          | none: nothing is
/// ever approved | | `ask_client`           | `on-request`     | `user`              | escalations
/// the model asks for | | `ask_client_untrusted` | `untrusted`      | `user`              | every
/// command not known safe, every patch | | `server_default`       | (not sent)       | (not sent)
/// | whatever the server's config says |
///
/// `auto_review` and `deny_all` are the Python SDK's modes; the `ask_client*` modes route the
/// requests to the approval handler (fail-closed when there is none).
enum class ApprovalMode {
  auto_review,
  deny_all,
  ask_client,
  ask_client_untrusted,
  server_default,
};

/// Sandbox presets (thread: `sandbox`; turn: `sandboxPolicy`).
enum class Sandbox {
  read_only,        ///< read files, no writes
  workspace_write,  ///< read files, write inside the workspace and writable roots
  full_access,      ///< no filesystem restrictions
};

std::string_view to_string(ApprovalMode m) noexcept;
std::string_view to_string(Sandbox s) noexcept;

/// Adds `approvalPolicy`/`approvalsReviewer` for `m` to `params` (nothing for server_default).
void apply_approval_mode(boost::json::object& params, ApprovalMode m);
/// The thread-level `sandbox` string: `read-only`, `workspace-write`, `danger-full-access`.
std::string_view sandbox_mode_wire(Sandbox s) noexcept;
/// The turn-level `sandboxPolicy` object (with the model defaults the Python SDK sends).
boost::json::object sandbox_policy_wire(Sandbox s);

}  // namespace codex
