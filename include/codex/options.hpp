// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file options.hpp
/// @brief Option structs for every method, usable with designated initializers:
/// `codex.thread_start({.model = "gpt-5.4", .sandbox = Sandbox::workspace_write})`.
///
/// Only the options that are set go on the wire. Members are in the Python SDK's order
/// (`approval_mode` first, the rest alphabetical), then the C++-only ones (`approval_handler`,
/// `timeout`); designated initializers must follow that order.
///
/// Turn-level overrides (`sandbox`, `approval_mode`, `cwd`, `model`, `effort`, `summary`,
/// `service_tier`, `personality`) are stored by the server and **persist for later turns** of the
/// thread; `output_schema` and `turn_service_tier` apply to one turn only.

#include <codex/approvals.hpp>
#include <codex/policy.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace codex {

/// For calls that take no other option: a deadline overriding `CodexConfig::request_timeout`.
struct CallOptions {
  std::optional<std::chrono::milliseconds> timeout;
};

/// `thread_start` options. `approval_mode` defaults to `auto_review` (Python parity); use
/// `ApprovalMode::server_default` to send none.
struct ThreadStartOptions {
  std::optional<ApprovalMode> approval_mode = ApprovalMode::auto_review;
  std::optional<std::string> base_instructions;
  std::optional<boost::json::object> config;  ///< free-form config overrides for this thread
  std::optional<std::string> cwd;
  std::optional<std::string> developer_instructions;
  std::optional<bool> ephemeral;  ///< not persisted, absent from thread_list
  std::optional<std::string> model;
  std::optional<std::string> model_provider;
  std::optional<std::string> personality;  ///< `none`, `friendly`, `pragmatic`
  std::optional<Sandbox> sandbox;
  std::optional<std::string> service_name;
  std::optional<std::string> service_tier;
  std::optional<std::string> session_start_source;  ///< `startup`, `clear`
  std::optional<std::string> thread_source;         ///< `user`, `subagent`, ...
  ApprovalHandler approval_handler;                 ///< handler for this thread's server requests
  std::optional<std::chrono::milliseconds> timeout;
};

/// `thread_resume` options. Nothing set: the thread keeps its stored settings.
struct ThreadResumeOptions {
  std::optional<ApprovalMode> approval_mode;
  std::optional<std::string> base_instructions;
  std::optional<boost::json::object> config;
  std::optional<std::string> cwd;
  std::optional<std::string> developer_instructions;
  std::optional<bool> include_turns;  ///< sent inverted as `excludeTurns`
  std::optional<std::string> model;
  std::optional<std::string> model_provider;
  std::optional<std::string> personality;
  std::optional<Sandbox> sandbox;
  std::optional<std::string> service_tier;
  ApprovalHandler approval_handler;
  std::optional<std::chrono::milliseconds> timeout;
};

/// `thread_fork` options.
struct ThreadForkOptions {
  std::optional<ApprovalMode> approval_mode;
  std::optional<std::string> base_instructions;
  std::optional<boost::json::object> config;
  std::optional<std::string> cwd;
  std::optional<std::string> developer_instructions;
  std::optional<bool> ephemeral;
  std::optional<bool> include_turns;  ///< sent inverted as `excludeTurns`
  std::optional<std::string> model;
  std::optional<std::string> model_provider;
  std::optional<Sandbox> sandbox;
  std::optional<std::string> service_tier;
  std::optional<std::string> thread_source;
  ApprovalHandler approval_handler;
  std::optional<std::chrono::milliseconds> timeout;
};

/// `thread_list` options (one page; pass the returned `nextCursor` as `cursor` for the next).
struct ThreadListOptions {
  std::optional<bool> archived;
  std::optional<std::string> cursor;
  std::optional<std::vector<std::string>> cwd;
  std::optional<std::int64_t> limit;
  std::optional<std::vector<std::string>> model_providers;
  std::optional<std::string> search_term;
  std::optional<std::string> sort_direction;  ///< `asc`, `desc`
  std::optional<std::string> sort_key;        ///< `created_at`, `updated_at`
  std::optional<std::vector<std::string>> source_kinds;
  std::optional<bool> use_state_db_only;
  std::optional<std::chrono::milliseconds> timeout;
};

/// `models` options (`cursor`/`limit` page through the catalog; the Python SDK has neither).
struct ModelsOptions {
  bool include_hidden = false;
  std::optional<std::string> cursor;
  std::optional<std::int64_t> limit;
  std::optional<std::chrono::milliseconds> timeout;
};

/// `account` options.
struct AccountOptions {
  bool refresh_token = false;
  std::optional<std::chrono::milliseconds> timeout;
};

/// `thread.read` options.
struct ReadOptions {
  bool include_turns = false;
  std::optional<std::chrono::milliseconds> timeout;
};

/// `thread.run` / `thread.turn` options.
struct TurnOptions {
  std::optional<ApprovalMode> approval_mode;
  std::optional<std::string> cwd;
  std::optional<std::string> effort;  ///< `none`,`minimal`,`low`,`medium`,`high`,`xhigh`,...
  std::optional<std::string> model;
  std::optional<boost::json::object> output_schema;  ///< JSON Schema of the final message
  std::optional<std::string> personality;
  std::optional<Sandbox> sandbox;
  std::optional<std::string> service_tier;
  std::optional<std::string> summary;  ///< reasoning summary: `auto`,`concise`,`detailed`,`none`
  std::optional<std::string> turn_service_tier;      ///< `serviceTierForTurn`: this turn only
  ApprovalHandler approval_handler;                  ///< handler for this turn's server requests
  std::optional<std::chrono::milliseconds> timeout;  ///< deadline of the `turn/start` request
};

}  // namespace codex
