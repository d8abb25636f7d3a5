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
  /// Deadline of the request (unset: `CodexConfig::request_timeout`; zero: none). Passing it
  /// throws `TimeoutError`.
  std::optional<std::chrono::milliseconds> timeout;
};

/// `thread_start` options. `approval_mode` defaults to `auto_review` (Python parity); use
/// `ApprovalMode::server_default` to send none.
struct ThreadStartOptions {
  /// `approvalPolicy`/`approvalsReviewer` (see `ApprovalMode`; nullopt sends none).
  std::optional<ApprovalMode> approval_mode = ApprovalMode::auto_review;
  std::optional<std::string> base_instructions;  ///< `baseInstructions`
  std::optional<boost::json::object> config;     ///< free-form config overrides for this thread
  std::optional<std::string> cwd;                ///< the thread's working directory
  std::optional<std::string> developer_instructions;  ///< `developerInstructions`
  std::optional<bool> ephemeral;                      ///< not persisted, absent from thread_list
  std::optional<std::string> model;                   ///< the model, e.g. `gpt-5.4`
  std::optional<std::string> model_provider;          ///< `modelProvider`: a configured provider
  std::optional<std::string> personality;             ///< `none`, `friendly`, `pragmatic`
  std::optional<Sandbox> sandbox;                     ///< `sandbox`: the thread's sandbox mode
  std::optional<std::string> service_name;            ///< `serviceName`, sent as given
  std::optional<std::string> service_tier;            ///< `serviceTier`, for this thread's turns
  std::optional<std::string> session_start_source;    ///< `startup`, `clear`
  std::optional<std::string> thread_source;           ///< `user`, `subagent`, ...
  ApprovalHandler approval_handler;                   ///< handler for this thread's server requests
  std::optional<std::chrono::milliseconds> timeout;   ///< deadline of the `thread/start` request
};

/// `thread_resume` options. Nothing set: the thread keeps its stored settings.
struct ThreadResumeOptions {
  std::optional<ApprovalMode> approval_mode;          ///< a new approval mode (nullopt: keep it)
  std::optional<std::string> base_instructions;       ///< `baseInstructions`
  std::optional<boost::json::object> config;          ///< free-form config overrides
  std::optional<std::string> cwd;                     ///< a new working directory
  std::optional<std::string> developer_instructions;  ///< `developerInstructions`
  std::optional<bool> include_turns;                  ///< sent inverted as `excludeTurns`
  std::optional<std::string> model;                   ///< a new model
  std::optional<std::string> model_provider;          ///< `modelProvider`
  std::optional<std::string> personality;             ///< `none`, `friendly`, `pragmatic`
  std::optional<Sandbox> sandbox;                     ///< `sandbox`: a new sandbox mode
  std::optional<std::string> service_tier;            ///< `serviceTier`
  ApprovalHandler approval_handler;                   ///< handler for this thread's server requests
  std::optional<std::chrono::milliseconds> timeout;   ///< deadline of the `thread/resume` request
};

/// `thread_fork` options.
struct ThreadForkOptions {
  std::optional<ApprovalMode> approval_mode;          ///< the fork's approval mode
  std::optional<std::string> base_instructions;       ///< `baseInstructions`
  std::optional<boost::json::object> config;          ///< free-form config overrides
  std::optional<std::string> cwd;                     ///< the fork's working directory
  std::optional<std::string> developer_instructions;  ///< `developerInstructions`
  std::optional<bool> ephemeral;      ///< the fork is not persisted, absent from thread_list
  std::optional<bool> include_turns;  ///< sent inverted as `excludeTurns`
  std::optional<std::string> model;   ///< the fork's model
  std::optional<std::string> model_provider;         ///< `modelProvider`
  std::optional<Sandbox> sandbox;                    ///< `sandbox`: the fork's sandbox mode
  std::optional<std::string> service_tier;           ///< `serviceTier`
  std::optional<std::string> thread_source;          ///< `threadSource`: `user`, `subagent`, ...
  ApprovalHandler approval_handler;                  ///< handler for the fork's server requests
  std::optional<std::chrono::milliseconds> timeout;  ///< deadline of the `thread/fork` request
};

/// `thread_list` options (one page; pass the returned `nextCursor` as `cursor` for the next).
struct ThreadListOptions {
  std::optional<bool> archived;       ///< true: only archived threads; false or unset: only others
  std::optional<std::string> cursor;  ///< the `nextCursor` of the previous page
  /// Only threads whose cwd is one of these paths (one path is sent as a string).
  std::optional<std::vector<std::string>> cwd;
  std::optional<std::int64_t> limit;  ///< page size (unset: the server's default)
  std::optional<std::vector<std::string>> model_providers;  ///< only these providers' threads
  std::optional<std::string> search_term;                   ///< substring of the thread title
  std::optional<std::string> sort_direction;                ///< `asc`, `desc`
  std::optional<std::string> sort_key;                      ///< `created_at`, `updated_at`
  std::optional<std::vector<std::string>> source_kinds;     ///< only these source kinds
  std::optional<bool> use_state_db_only;             ///< `useStateDbOnly`: skip the rollout scan
  std::optional<std::chrono::milliseconds> timeout;  ///< deadline of the `thread/list` request
};

/// `models` options (`cursor`/`limit` page through the catalog; the Python SDK has neither).
struct ModelsOptions {
  bool include_hidden = false;  ///< `includeHidden`: also models hidden from the default picker
  std::optional<std::string> cursor;                 ///< the `nextCursor` of the previous page
  std::optional<std::int64_t> limit;                 ///< page size (unset: the server's default)
  std::optional<std::chrono::milliseconds> timeout;  ///< deadline of the `model/list` request
};

/// `account` options.
struct AccountOptions {
  bool refresh_token = false;  ///< `refreshToken`: refresh the ChatGPT tokens first (managed auth)
  std::optional<std::chrono::milliseconds> timeout;  ///< deadline of the `account/read` request
};

/// `thread.read` options.
struct ReadOptions {
  bool include_turns = false;  ///< `includeTurns`: include the turns and their items
  std::optional<std::chrono::milliseconds> timeout;  ///< deadline of the `thread/read` request
};

/// `thread.run` / `thread.turn` options.
struct TurnOptions {
  std::optional<ApprovalMode> approval_mode;  ///< persists for later turns
  std::optional<std::string> cwd;             ///< working directory; persists for later turns
  std::optional<std::string> effort;  ///< `none`,`minimal`,`low`,`medium`,`high`,`xhigh`,...
  std::optional<std::string> model;   ///< persists for later turns
  std::optional<boost::json::object> output_schema;  ///< JSON Schema of the final message
  std::optional<std::string> personality;            ///< `none`, `friendly`, `pragmatic`
  std::optional<Sandbox> sandbox;           ///< sent as `sandboxPolicy`; persists for later turns
  std::optional<std::string> service_tier;  ///< `serviceTier`; persists for later turns
  /// `turnTrigger`: a label for who or what started the turn (`"automation"`,
  /// `"slack_notification"`, ...); metadata only, ignored when the turn joins an active one.
  std::optional<std::string> source;
  std::optional<std::string> summary;  ///< reasoning summary: `auto`,`concise`,`detailed`,`none`
  /// `serviceTierForTurn`: the service tier of this turn only (`"default"` = standard speed); the
  /// thread's tier is unchanged; ignored when the turn joins an active one.
  std::optional<std::string> turn_service_tier;
  ApprovalHandler approval_handler;                  ///< handler for this turn's server requests
  std::optional<std::chrono::milliseconds> timeout;  ///< deadline of the `turn/start` request
};

}  // namespace codex
