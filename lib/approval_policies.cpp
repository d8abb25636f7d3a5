// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/approval_policies.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>
#include <utility>

namespace codex {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::optional<std::string> opt_string(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

std::string string_or_empty(const json::object& o, std::string_view key) {
  return opt_string(o, key).value_or(std::string());
}

const json::array* opt_array(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key)) return v->if_array();
  return nullptr;
}

const json::object* opt_object(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key)) return v->if_object();
  return nullptr;
}

// Reads one shell word starting at `i` (quotes and backslashes removed). Stops at unquoted
// whitespace. Returns nullopt on an unterminated quote.
std::optional<std::string> read_shell_word(std::string_view s, std::size_t& i) {
  std::string out;
  while (i < s.size() && !is_space(s[i])) {
    char c = s[i];
    if (c == '\'') {
      std::size_t end = s.find('\'', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      out.append(s.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      ++i;
      for (;;) {
        if (i >= s.size()) return std::nullopt;
        char d = s[i];
        if (d == '"') {
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < s.size() &&
            (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`')) {
          out.push_back(s[i + 1]);
          i += 2;
          continue;
        }
        out.push_back(d);
        ++i;
      }
    } else if (c == '\\' && i + 1 < s.size()) {
      out.push_back(s[i + 1]);
      i += 2;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

bool is_known_shell(std::string_view word) {
  std::string_view base = word;
  if (auto slash = word.rfind('/'); slash != std::string_view::npos) {
    if (word.front() != '/') return false;  // a relative path to a "shell": not trusted
    base = word.substr(slash + 1);
  }
  return base == "bash" || base == "sh" || base == "zsh";
}

std::optional<fs::path> normal_absolute(std::string_view p, std::string_view base) {
  if (p.empty()) return std::nullopt;
  fs::path path{std::string(p)};
  if (path.is_relative()) {
    if (base.empty()) return std::nullopt;
    fs::path b{std::string(base)};
    if (b.is_relative()) return std::nullopt;
    path = b / path;
  }
  std::error_code ec;
  fs::path out = fs::weakly_canonical(path, ec);
  if (ec) return std::nullopt;
  out = out.lexically_normal();
  // "/a/b/" has an empty last element; drop it so that it compares like "/a/b".
  while (out.has_relative_path() && out.filename().empty())
    out = out.parent_path();
  return out;
}

bool under_any_root(std::string_view path, const std::vector<std::string>& roots,
                    std::string_view base = {}) {
  return std::any_of(roots.begin(), roots.end(),
                     [&](const std::string& root) { return path_is_under(path, root, base); });
}

bool matches_any_prefix(std::string_view command, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& prefix) {
    return command_matches_prefix(command, prefix);
  });
}

ServerReply command_reply(const AllowList& list, const ServerRequest& request) {
  const auto decline = ServerReply::decision(ApprovalDecision::decline);
  auto view = CommandApprovalRequest::from(request);
  if (!view) return decline;
  if (view->kind != "command") return decline;
  if (view->network_approval_context || view->additional_permissions) return decline;
  if (view->inner_commands.empty()) return decline;
  if (!view->command.empty() && has_shell_operators(unwrap_shell_command(view->command)))
    return decline;
  for (const auto& inner : view->inner_commands) {
    if (has_shell_operators(inner)) return decline;
    if (!matches_any_prefix(inner, list.command_prefixes)) return decline;
  }
  if (!list.cwd_roots.empty()) {
    if (view->cwd.empty() || !under_any_root(view->cwd, list.cwd_roots)) return decline;
  }
  return ServerReply::decision(ApprovalDecision::accept);
}

ServerReply file_change_reply(const AllowList& list, const ServerRequest& request,
                              const json::object* item) {
  const auto decline = ServerReply::decision(ApprovalDecision::decline);
  if (!list.allow_file_changes_under_roots || list.cwd_roots.empty()) return decline;
  auto view = FileChangeApprovalRequest::from(request, item);
  if (!view || !view->changes_known || view->changes.empty()) return decline;
  if (view->grant_root && !under_any_root(*view->grant_root, list.cwd_roots)) return decline;
  for (const auto& change : view->changes) {
    if (!under_any_root(change.path, list.cwd_roots)) return decline;
    if (change.move_path && !under_any_root(*change.move_path, list.cwd_roots)) return decline;
  }
  return ServerReply::decision(ApprovalDecision::accept);
}

boost::asio::awaitable<ServerReply> ready_reply(ServerReply reply) {
  co_return reply;
}

std::vector<FileChange> parse_changes(const json::array& changes) {
  std::vector<FileChange> out;
  for (const auto& v : changes) {
    const auto* o = v.if_object();
    if (!o) continue;
    FileChange c;
    c.path = string_or_empty(*o, "path");
    c.diff = string_or_empty(*o, "diff");
    if (auto* k = o->if_contains("kind")) {
      if (k->is_string()) {
        c.kind = std::string(k->get_string());
      } else if (auto* ko = k->if_object()) {
        c.kind = string_or_empty(*ko, "type");
        c.move_path = opt_string(*ko, "move_path");
        if (!c.move_path) c.move_path = opt_string(*ko, "movePath");
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- command text helpers

std::string unwrap_shell_command(std::string_view command) {
  std::string_view s = trim(command);
  std::size_t i = 0;
  auto shell = read_shell_word(s, i);
  if (!shell || !is_known_shell(*shell)) return std::string(command);
  while (i < s.size() && is_space(s[i]))
    ++i;
  auto flag = read_shell_word(s, i);
  if (!flag || (*flag != "-c" && *flag != "-lc")) return std::string(command);
  while (i < s.size() && is_space(s[i]))
    ++i;
  if (i >= s.size()) return std::string(command);
  auto body = read_shell_word(s, i);
  if (!body) return std::string(command);
  while (i < s.size() && is_space(s[i]))
    ++i;
  if (i != s.size()) return std::string(command);  // more words: not a plain wrapper
  return *body;
}

bool command_matches_prefix(std::string_view command, std::string_view prefix) {
  command = trim(command);
  prefix = trim(prefix);
  if (prefix.empty() || command.size() < prefix.size()) return false;
  if (command.substr(0, prefix.size()) != prefix) return false;
  return command.size() == prefix.size() || is_space(command[prefix.size()]);
}

bool has_shell_operators(std::string_view s) {
  enum class Q { none, single, dbl } q = Q::none;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (q) {
      case Q::single:
        if (c == '\'') q = Q::none;
        break;
      case Q::dbl:
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          q = Q::none;
        } else if (c == '`' || (c == '$' && i + 1 < s.size() && s[i + 1] == '(')) {
          return true;
        }
        break;
      case Q::none:
        if (c == '\\') {
          if (i + 1 < s.size() && s[i + 1] == '\n') return true;  // a continued line
          ++i;
        } else if (c == '\'') {
          q = Q::single;
        } else if (c == '"') {
          q = Q::dbl;
        } else if (c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '\n' ||
                   c == '\r' || c == '`' || c == '(' || c == ')') {
          return true;
        } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '(') {
          return true;
        }
        break;
    }
  }
  return q != Q::none;  // an unterminated quote is not something to approve
}

bool path_is_under(std::string_view path, std::string_view root, std::string_view base) {
  auto p = normal_absolute(path, base);
  auto r = normal_absolute(root, {});
  if (!p || !r) return false;
  fs::path rel = p->lexically_relative(*r);
  if (rel.empty()) return false;
  auto first = rel.begin();
  return first == rel.end() || *first != "..";
}

// ---------------------------------------------------------------- the allow list

ServerReply allow_list_reply(const AllowList& list, const ServerRequest& request,
                             const json::object* file_change_item) {
  switch (request.kind) {
    case ServerRequestKind::command_execution_approval:
      return command_reply(list, request);
    case ServerRequestKind::file_change_approval:
      return file_change_reply(list, request, file_change_item);
    default:
      return ServerReply::refuse(request);
  }
}

ApprovalHandler allow_commands(AllowList list) {
  return ApprovalHandler(
      [list = std::move(list)](ServerRequest request) -> boost::asio::awaitable<ServerReply> {
        return ready_reply(allow_list_reply(list, request));
      });
}

// ---------------------------------------------------------------- typed views

bool CommandApprovalRequest::offers(std::string_view decision) const {
  if (available_decisions.empty()) return true;
  for (const auto& d : available_decisions) {
    if (auto* s = d.if_string(); s && *s == decision) return true;
    if (auto* o = d.if_object(); o && o->contains(decision)) return true;
  }
  return false;
}

std::optional<CommandApprovalRequest> CommandApprovalRequest::from(const ServerRequest& request) {
  if (request.kind != ServerRequestKind::command_execution_approval) return std::nullopt;
  const auto& p = request.params;
  CommandApprovalRequest v;
  v.thread_id = request.thread_id;
  v.turn_id = request.turn_id;
  v.item_id = request.item_id;
  v.approval_id = opt_string(p, "approvalId");
  if (auto k = opt_string(p, "kind")) v.kind = std::move(*k);
  v.command = string_or_empty(p, "command");
  v.cwd = string_or_empty(p, "cwd");
  v.reason = opt_string(p, "reason");
  if (auto* a = opt_array(p, "commandActions")) {
    v.command_actions = *a;
    for (const auto& action : *a)
      if (auto* o = action.if_object())
        if (auto c = opt_string(*o, "command")) v.inner_commands.push_back(std::move(*c));
  }
  if (v.inner_commands.empty() && !v.command.empty())
    v.inner_commands.push_back(unwrap_shell_command(v.command));
  if (auto* a = opt_array(p, "availableDecisions")) v.available_decisions = *a;
  if (auto* a = opt_array(p, "proposedExecpolicyAmendment"))
    for (const auto& s : *a)
      if (s.is_string()) v.proposed_execpolicy_amendment.emplace_back(s.get_string());
  if (auto* a = opt_array(p, "proposedNetworkPolicyAmendments"))
    v.proposed_network_policy_amendments = *a;
  if (auto* o = opt_object(p, "networkApprovalContext")) v.network_approval_context = *o;
  if (auto* o = opt_object(p, "additionalPermissions")) v.additional_permissions = *o;
  return v;
}

std::optional<FileChangeApprovalRequest> FileChangeApprovalRequest::from(
    const ServerRequest& request, const json::object* file_change_item) {
  if (request.kind != ServerRequestKind::file_change_approval) return std::nullopt;
  const auto& p = request.params;
  FileChangeApprovalRequest v;
  v.thread_id = request.thread_id;
  v.turn_id = request.turn_id;
  v.item_id = request.item_id;
  v.reason = opt_string(p, "reason");
  v.grant_root = opt_string(p, "grantRoot");
  if (auto* a = opt_array(p, "changes")) {
    v.changes = parse_changes(*a);
    v.changes_known = true;
  } else if (file_change_item) {
    const auto& item = *file_change_item;
    auto type = opt_string(item, "type");
    auto id = opt_string(item, "id");
    bool same_item = id && !request.item_id.empty() && *id == request.item_id;
    if (same_item && (!type || *type == "fileChange")) {
      if (auto* a = opt_array(item, "changes")) {
        v.changes = parse_changes(*a);
        v.changes_known = true;
      }
    }
  }
  return v;
}

// ---------------------------------------------------------------- replies with payloads

ServerReply accept_with_execpolicy_amendment(std::vector<std::string> prefix_rule) {
  json::array rule;
  for (auto& s : prefix_rule)
    rule.emplace_back(std::move(s));
  json::object amendment;
  amendment["execpolicy_amendment"] = std::move(rule);
  json::object decision;
  decision["acceptWithExecpolicyAmendment"] = std::move(amendment);
  json::object body;
  body["decision"] = std::move(decision);
  return ServerReply::with_result(std::move(body));
}

ServerReply apply_network_policy_amendment(std::string host, std::string action) {
  json::object rule;
  rule["host"] = std::move(host);
  rule["action"] = std::move(action);
  json::object amendment;
  amendment["network_policy_amendment"] = std::move(rule);
  json::object decision;
  decision["applyNetworkPolicyAmendment"] = std::move(amendment);
  json::object body;
  body["decision"] = std::move(decision);
  return ServerReply::with_result(std::move(body));
}

ServerReply grant_permissions(json::object permissions, std::string scope) {
  json::object body;
  body["permissions"] = std::move(permissions);
  body["scope"] = std::move(scope);
  return ServerReply::with_result(std::move(body));
}

ServerReply user_input_answers(std::map<std::string, std::vector<std::string>> answers) {
  json::object by_question;
  for (auto& [question, values] : answers) {
    json::array list;
    for (auto& s : values)
      list.emplace_back(std::move(s));
    json::object answer;
    answer["answers"] = std::move(list);
    by_question[question] = std::move(answer);
  }
  json::object body;
  body["answers"] = std::move(by_question);
  return ServerReply::with_result(std::move(body));
}

ServerReply elicitation(std::string action, json::value content) {
  json::object body;
  body["action"] = std::move(action);
  if (!content.is_null()) body["content"] = std::move(content);
  return ServerReply::with_result(std::move(body));
}

ServerReply dynamic_tool_result(std::vector<std::string> texts, bool success) {
  json::array items;
  for (auto& t : texts) {
    json::object item;
    item["type"] = "inputText";
    item["text"] = std::move(t);
    items.emplace_back(std::move(item));
  }
  json::object body;
  body["contentItems"] = std::move(items);
  body["success"] = success;
  return ServerReply::with_result(std::move(body));
}

}  // namespace codex
