// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Option structs -> wire params, and wire results -> result structs. No I/O.
#include "engine.hpp"

#include <codex/errors.hpp>
#include <codex/inputs.hpp>
#include <codex/policy.hpp>
#include <codex/results.hpp>

#include <stdexcept>

namespace codex {

namespace json = boost::json;

// ---------------------------------------------------------------- policy

std::string_view to_string(ApprovalMode m) noexcept {
  switch (m) {
    case ApprovalMode::auto_review:
      return "auto_review";
    case ApprovalMode::deny_all:
      return "deny_all";
    case ApprovalMode::ask_client:
      return "ask_client";
    case ApprovalMode::ask_client_untrusted:
      return "ask_client_untrusted";
    case ApprovalMode::server_default:
      return "server_default";
  }
  return "unknown";
}

std::string_view to_string(Sandbox s) noexcept {
  switch (s) {
    case Sandbox::read_only:
      return "read_only";
    case Sandbox::workspace_write:
      return "workspace_write";
    case Sandbox::full_access:
      return "full_access";
  }
  return "unknown";
}

void apply_approval_mode(json::object& params, ApprovalMode m) {
  switch (m) {
    case ApprovalMode::auto_review:
      params["approvalPolicy"] = "on-request";
      params["approvalsReviewer"] = "auto_review";
      return;
    case ApprovalMode::deny_all:
      params["approvalPolicy"] = "never";
      return;
    case ApprovalMode::ask_client:
      params["approvalPolicy"] = "on-request";
      params["approvalsReviewer"] = "user";
      return;
    case ApprovalMode::ask_client_untrusted:
      params["approvalPolicy"] = "untrusted";
      params["approvalsReviewer"] = "user";
      return;
    case ApprovalMode::server_default:
      return;
  }
  throw std::invalid_argument(
      "approval_mode must be one of: auto_review, deny_all, ask_client, "
      "ask_client_untrusted, server_default");
}

std::string_view sandbox_mode_wire(Sandbox s) noexcept {
  switch (s) {
    case Sandbox::read_only:
      return "read-only";
    case Sandbox::workspace_write:
      return "workspace-write";
    case Sandbox::full_access:
      return "danger-full-access";
  }
  return "read-only";
}

json::object sandbox_policy_wire(Sandbox s) {
  switch (s) {
    case Sandbox::read_only:
      return json::object{{"type", "readOnly"}, {"networkAccess", false}};
    case Sandbox::workspace_write:
      return json::object{{"type", "workspaceWrite"},
                          {"writableRoots", json::array{}},
                          {"networkAccess", false},
                          {"excludeTmpdirEnvVar", false},
                          {"excludeSlashTmp", false}};
    case Sandbox::full_access:
      return json::object{{"type", "dangerFullAccess"}};
  }
  throw std::invalid_argument(
      "sandbox must be one of: Sandbox::read_only, Sandbox::workspace_write, Sandbox::full_access");
}

namespace {
void check_sandbox(Sandbox s) {
  if (s != Sandbox::read_only && s != Sandbox::workspace_write && s != Sandbox::full_access)
    throw std::invalid_argument(
        "sandbox must be one of: Sandbox::read_only, Sandbox::workspace_write, "
        "Sandbox::full_access");
}
}  // namespace

// ---------------------------------------------------------------- inputs

Input::Input(std::string text) : items_{TextInput{std::move(text)}} {}
Input::Input(const char* text) : items_{TextInput{text ? std::string(text) : std::string()}} {}
Input::Input(TextInput item) : items_{std::move(item)} {}
Input::Input(ImageInput item) : items_{std::move(item)} {}
Input::Input(LocalImageInput item) : items_{std::move(item)} {}
Input::Input(SkillInput item) : items_{std::move(item)} {}
Input::Input(MentionInput item) : items_{std::move(item)} {}
Input::Input(std::vector<InputItem> items) : items_(std::move(items)) {}
Input::Input(std::initializer_list<InputItem> items) : items_(items) {}
Input::Input(ExternalMessage message) : external_(std::move(message)) {}

json::array Input::to_wire() const {
  if (external_)
    throw std::invalid_argument(
        "an ExternalMessage is not user input: pass it alone to turn() or run() (steer() does "
        "not take it)");
  if (items_.empty()) throw std::invalid_argument("input must contain at least one item");
  json::array a;
  a.reserve(items_.size());
  for (auto& it : items_) {
    std::visit(
        [&a](auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, TextInput>) {
            a.push_back(json::object{{"type", "text"}, {"text", x.text}});
          } else if constexpr (std::is_same_v<T, ImageInput>) {
            if (x.url.empty()) throw std::invalid_argument("ImageInput.url must not be empty");
            a.push_back(json::object{{"type", "image"}, {"url", x.url}});
          } else if constexpr (std::is_same_v<T, LocalImageInput>) {
            if (x.path.empty())
              throw std::invalid_argument("LocalImageInput.path must not be empty");
            a.push_back(json::object{{"type", "localImage"}, {"path", x.path}});
          } else if constexpr (std::is_same_v<T, SkillInput>) {
            if (x.name.empty() || x.path.empty())
              throw std::invalid_argument("SkillInput needs a name and a path");
            a.push_back(json::object{{"type", "skill"}, {"name", x.name}, {"path", x.path}});
          } else {
            if (x.name.empty() || x.path.empty())
              throw std::invalid_argument("MentionInput needs a name and a path");
            a.push_back(json::object{{"type", "mention"}, {"name", x.name}, {"path", x.path}});
          }
        },
        it);
  }
  return a;
}

// ---------------------------------------------------------------- results

namespace {
std::string_view sv(const json::object& o, std::string_view k) noexcept {
  if (auto* v = o.if_contains(k))
    if (auto* s = v->if_string()) return *s;
  return {};
}
std::optional<std::string> opt_str(const json::object& o, std::string_view k) {
  if (auto* v = o.if_contains(k))
    if (auto* s = v->if_string()) return std::string(*s);
  return std::nullopt;
}
std::optional<std::int64_t> opt_int(const json::object& o, std::string_view k) {
  if (auto* v = o.if_contains(k)) {
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  }
  return std::nullopt;
}
TokenUsageBreakdown parse_breakdown(const json::value* v) {
  TokenUsageBreakdown b;
  if (!v || !v->is_object()) return b;
  auto& o = v->get_object();
  b.total_tokens = opt_int(o, "totalTokens").value_or(0);
  b.input_tokens = opt_int(o, "inputTokens").value_or(0);
  b.cached_input_tokens = opt_int(o, "cachedInputTokens").value_or(0);
  b.cache_write_input_tokens = opt_int(o, "cacheWriteInputTokens").value_or(0);
  b.output_tokens = opt_int(o, "outputTokens").value_or(0);
  b.reasoning_output_tokens = opt_int(o, "reasoningOutputTokens").value_or(0);
  return b;
}
}  // namespace

std::string_view Notification::turn_id() const noexcept {
  auto t = sv(params, "turnId");
  if (!t.empty()) return t;
  if (auto* turn = params.if_contains("turn"))
    if (auto* o = turn->if_object()) return sv(*o, "id");
  return {};
}
std::string_view Notification::thread_id() const noexcept {
  return sv(params, "threadId");
}
std::string_view Notification::item_id() const noexcept {
  return sv(params, "itemId");
}
std::string_view Notification::delta() const noexcept {
  return sv(params, "delta");
}

std::string_view to_string(TurnStatus s) noexcept {
  switch (s) {
    case TurnStatus::completed:
      return "completed";
    case TurnStatus::interrupted:
      return "interrupted";
    case TurnStatus::failed:
      return "failed";
    case TurnStatus::in_progress:
      return "inProgress";
    case TurnStatus::unknown:
      break;
  }
  return "unknown";
}

TurnStatus turn_status_from_wire(std::string_view s) noexcept {
  if (s == "completed") return TurnStatus::completed;
  if (s == "interrupted") return TurnStatus::interrupted;
  if (s == "failed") return TurnStatus::failed;
  if (s == "inProgress") return TurnStatus::in_progress;
  return TurnStatus::unknown;
}

std::string TurnError::kind() const {
  if (auto* s = codex_error_info.if_string()) return std::string(*s);
  if (auto* o = codex_error_info.if_object())
    if (!o->empty()) return std::string(o->begin()->key());
  return {};
}

std::optional<std::int64_t> TurnError::http_status_code() const {
  if (auto* o = codex_error_info.if_object())
    for (auto& kv : *o)
      if (auto* inner = kv.value().if_object()) return opt_int(*inner, "httpStatusCode");
  return std::nullopt;
}

bool TurnError::is_server_overloaded() const {
  return is_overloaded_data(raw);
}

ThreadTokenUsage parse_token_usage(const json::object& o) {
  ThreadTokenUsage u;
  u.total = parse_breakdown(o.if_contains("total"));
  u.last = parse_breakdown(o.if_contains("last"));
  u.model_context_window = opt_int(o, "modelContextWindow");
  return u;
}

TurnError parse_turn_error(const json::object& o) {
  TurnError e;
  e.message = std::string(sv(o, "message"));
  if (auto* c = o.if_contains("codexErrorInfo")) e.codex_error_info = *c;
  e.additional_details = opt_str(o, "additionalDetails");
  e.raw = o;
  return e;
}

std::optional<std::string> final_response_from_items(const std::vector<json::object>& items) {
  std::optional<std::string> phaseless;
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    if (sv(*it, "type") != "agentMessage") continue;
    const json::value* phase = it->if_contains("phase");
    std::string text(sv(*it, "text"));
    if (phase && phase->is_string() && phase->get_string() == "final_answer") return text;
    if ((!phase || phase->is_null()) && !phaseless) phaseless = std::move(text);
  }
  return phaseless;
}

InitializeResponse parse_initialize_response(const json::object& o) {
  InitializeResponse r;
  r.raw = o;
  auto ua = sv(o, "userAgent");
  // Trim.
  while (!ua.empty() && std::isspace(static_cast<unsigned char>(ua.front())))
    ua.remove_prefix(1);
  while (!ua.empty() && std::isspace(static_cast<unsigned char>(ua.back())))
    ua.remove_suffix(1);
  r.user_agent = std::string(ua);
  if (auto* si = o.if_contains("serverInfo"); si && si->is_object()) {
    r.server_name = std::string(sv(si->get_object(), "name"));
    r.server_version = std::string(sv(si->get_object(), "version"));
  }
  if (!ua.empty()) {
    // `<client name>/<codex version> (<os>; <arch>) ...`: the version is the second token.
    auto slash = ua.find('/');
    if (slash != std::string_view::npos) {
      auto rest = ua.substr(slash + 1);
      auto end = rest.find_first_of(" \t(");
      if (r.server_version.empty()) r.server_version = std::string(rest.substr(0, end));
      if (r.server_name.empty()) r.server_name = "codex";
    } else {
      auto sp = ua.find_first_of(" \t");
      if (r.server_name.empty()) r.server_name = std::string(ua.substr(0, sp));
      if (r.server_version.empty() && sp != std::string_view::npos)
        r.server_version = std::string(ua.substr(sp + 1));
    }
  }
  r.codex_home = opt_str(o, "codexHome");
  r.platform_family = opt_str(o, "platformFamily");
  r.platform_os = opt_str(o, "platformOs");
  if (r.server_name.empty() || r.server_version.empty())
    throw ProtocolError("initialize response missing required metadata (user_agent='" +
                        r.user_agent + "', server_name='" + r.server_name + "', server_version='" +
                        r.server_version + "')");
  return r;
}

namespace detail {

// ---------------------------------------------------------------- params

namespace {
template <class T>
void put(json::object& p, std::string_view key, const std::optional<T>& v) {
  if (!v) return;
  if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    json::array a;
    for (auto& s : *v)
      a.emplace_back(s);
    p[key] = std::move(a);
  } else {
    p[key] = *v;
  }
}
void put_mode(json::object& p, const std::optional<ApprovalMode>& m) {
  if (m) apply_approval_mode(p, *m);
}
void put_sandbox(json::object& p, const std::optional<Sandbox>& s) {
  if (s) {
    check_sandbox(*s);
    p["sandbox"] = sandbox_mode_wire(*s);
  }
}
void put_exclude_turns(json::object& p, const std::optional<bool>& include_turns) {
  if (include_turns) p["excludeTurns"] = !*include_turns;
}
void check_id(const std::string& id, const char* what) {
  if (id.empty()) throw std::invalid_argument(std::string(what) + " must not be empty");
}
// `toolOutput` of an external message: {"name", "namespace" (when set), "output"}.
json::object tool_output_wire(const ExternalMessage& m) {
  if (m.tool_name.find_first_not_of(" \t\n\r\f\v") == std::string::npos)
    throw std::invalid_argument("ExternalMessage.tool_name must not be empty or blank");
  json::object o{{"name", m.tool_name}};
  put(o, "namespace", m.namespace_);
  if (auto* text = std::get_if<std::string>(&m.content)) {
    o["output"] = *text;
  } else {
    const auto& items = std::get<std::vector<json::object>>(m.content);
    json::array a;
    a.reserve(items.size());
    for (const auto& item : items)
      a.push_back(item);
    o["output"] = std::move(a);
  }
  return o;
}
}  // namespace

json::object thread_start_params(const ThreadStartOptions& o) {
  json::object p;
  put_mode(p, o.approval_mode);
  put(p, "baseInstructions", o.base_instructions);
  put(p, "config", o.config);
  put(p, "cwd", o.cwd);
  put(p, "developerInstructions", o.developer_instructions);
  put(p, "ephemeral", o.ephemeral);
  put(p, "model", o.model);
  put(p, "modelProvider", o.model_provider);
  put(p, "personality", o.personality);
  put_sandbox(p, o.sandbox);
  put(p, "serviceName", o.service_name);
  put(p, "serviceTier", o.service_tier);
  put(p, "sessionStartSource", o.session_start_source);
  put(p, "threadSource", o.thread_source);
  return p;
}

json::object thread_resume_params(const std::string& id, const ThreadResumeOptions& o) {
  check_id(id, "thread_id");
  json::object p{{"threadId", id}};
  put_mode(p, o.approval_mode);
  put(p, "baseInstructions", o.base_instructions);
  put(p, "config", o.config);
  put(p, "cwd", o.cwd);
  put(p, "developerInstructions", o.developer_instructions);
  put_exclude_turns(p, o.include_turns);
  put(p, "model", o.model);
  put(p, "modelProvider", o.model_provider);
  put(p, "personality", o.personality);
  put_sandbox(p, o.sandbox);
  put(p, "serviceTier", o.service_tier);
  return p;
}

json::object thread_fork_params(const std::string& id, const ThreadForkOptions& o) {
  check_id(id, "thread_id");
  json::object p{{"threadId", id}};
  put_mode(p, o.approval_mode);
  put(p, "baseInstructions", o.base_instructions);
  put(p, "config", o.config);
  put(p, "cwd", o.cwd);
  put(p, "developerInstructions", o.developer_instructions);
  put(p, "ephemeral", o.ephemeral);
  put_exclude_turns(p, o.include_turns);
  put(p, "model", o.model);
  put(p, "modelProvider", o.model_provider);
  put_sandbox(p, o.sandbox);
  put(p, "serviceTier", o.service_tier);
  put(p, "threadSource", o.thread_source);
  return p;
}

json::object thread_list_params(const ThreadListOptions& o) {
  json::object p;
  put(p, "archived", o.archived);
  put(p, "cursor", o.cursor);
  if (o.cwd) {
    if (o.cwd->size() == 1)
      p["cwd"] = o.cwd->front();
    else
      put(p, "cwd", o.cwd);
  }
  put(p, "limit", o.limit);
  put(p, "modelProviders", o.model_providers);
  put(p, "searchTerm", o.search_term);
  put(p, "sortDirection", o.sort_direction);
  put(p, "sortKey", o.sort_key);
  put(p, "sourceKinds", o.source_kinds);
  put(p, "useStateDbOnly", o.use_state_db_only);
  return p;
}

json::object turn_start_params(const std::string& thread_id, const Input& input,
                               const TurnOptions& o) {
  check_id(thread_id, "thread id");
  // An external message has no user input: `input: []` and the message as `toolOutput`.
  const ExternalMessage* external = input.external_message();
  json::object p{{"threadId", thread_id}, {"input", external ? json::array{} : input.to_wire()}};
  put_mode(p, o.approval_mode);
  put(p, "cwd", o.cwd);
  put(p, "effort", o.effort);
  put(p, "model", o.model);
  put(p, "outputSchema", o.output_schema);
  put(p, "personality", o.personality);
  if (o.sandbox) p["sandboxPolicy"] = sandbox_policy_wire(*o.sandbox);
  put(p, "serviceTier", o.service_tier);
  put(p, "summary", o.summary);
  put(p, "serviceTierForTurn", o.turn_service_tier);
  if (external) p["toolOutput"] = tool_output_wire(*external);
  put(p, "turnTrigger", o.source);
  return p;
}

json::object models_params(const ModelsOptions& o) {
  json::object p{{"includeHidden", o.include_hidden}};
  put(p, "cursor", o.cursor);
  put(p, "limit", o.limit);
  return p;
}

}  // namespace detail
}  // namespace codex
