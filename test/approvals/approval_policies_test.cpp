// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Unit tests of the allow-list policy, the typed request views and the reply shapes. No process,
// no network: the requests are built here in the shapes the real 0.169.0 server sends
// (app-server-protocol.md §6, §11.b).

#include <catch2/catch.hpp>

#include <codex/approval_policies.hpp>
#include <codex/approvals.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;

using codex::AllowList;
using codex::ApprovalDecision;
using codex::ServerReply;
using codex::ServerRequest;

namespace {

// A request as the engine builds it from a JSON-RPC message.
ServerRequest make_request(std::string method, std::string_view params_json) {
  ServerRequest r;
  r.id = 7;
  r.method = std::move(method);
  r.kind = codex::server_request_kind(r.method);
  r.params = json::parse(params_json).as_object();
  auto str = [&](const char* key) -> std::string {
    if (auto* v = r.params.if_contains(key); v && v->is_string())
      return std::string(v->get_string());
    return {};
  };
  r.thread_id = str("threadId");
  r.turn_id = str("turnId");
  r.item_id = str("itemId");
  if (r.item_id.empty()) r.item_id = str("callId");
  return r;
}

// A command approval shaped like the real server's (§11.b).
ServerRequest command_request(const std::string& inner, const std::string& cwd) {
  json::object p;
  p["kind"] = "command";
  p["threadId"] = "thr_1";
  p["turnId"] = "turn_1";
  p["itemId"] = "call_mock_1";
  p["startedAtMs"] = 1;
  p["environmentId"] = "local";
  // codex quotes the body POSIX-style: ' becomes '\''.
  std::string quoted;
  for (char c : inner) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  p["command"] = "/bin/bash -c '" + quoted + "'";
  p["cwd"] = cwd;
  json::object action;
  action["type"] = "unknown";
  action["command"] = inner;
  p["commandActions"] = json::array{action};
  return make_request("item/commandExecution/requestApproval", json::serialize(p));
}

std::string decision_of(const ServerReply& r) {
  if (!r.result) return "<error " + std::to_string(r.error_code) + ">";
  const auto& d = r.result->as_object().at("decision");
  return d.is_string() ? std::string(d.get_string()) : json::serialize(d);
}

// A fresh temporary directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "codex-cpp-allowlist-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    REQUIRE(::mkdtemp(buf.data()) != nullptr);
    path = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void require_json(const ServerReply& reply, std::string_view expected) {
  REQUIRE(reply.result);
  CHECK(reply.error_code == 0);
  CHECK(json::serialize(*reply.result) == json::serialize(json::parse(expected)));
}

}  // namespace

TEST_CASE("unwrap_shell_command strips the bash -c / -lc wrapper", "[allowlist]") {
  using codex::unwrap_shell_command;
  CHECK(unwrap_shell_command("/bin/bash -c 'touch allowed.txt'") == "touch allowed.txt");
  CHECK(unwrap_shell_command("/bin/bash -lc 'git status'") == "git status");
  CHECK(unwrap_shell_command("bash -c \"ls -la\"") == "ls -la");
  CHECK(unwrap_shell_command("/usr/bin/zsh -lc 'echo '\\''hi'\\'''") == "echo 'hi'");
  CHECK(unwrap_shell_command("sh -c ls") == "ls");
  // Not a plain wrapper: left as is (so it does not match a prefix such as "touch").
  CHECK(unwrap_shell_command("ls -la") == "ls -la");
  CHECK(unwrap_shell_command("/bin/bash -c 'a' extra") == "/bin/bash -c 'a' extra");
  CHECK(unwrap_shell_command("./bash -c 'touch x'") == "./bash -c 'touch x'");
  CHECK(unwrap_shell_command("/bin/bash -c 'unterminated") == "/bin/bash -c 'unterminated");
  CHECK(unwrap_shell_command("/bin/bash -x 'touch x'") == "/bin/bash -x 'touch x'");
}

TEST_CASE("command prefixes match at a word boundary", "[allowlist]") {
  using codex::command_matches_prefix;
  CHECK(command_matches_prefix("touch allowed.txt", "touch"));
  CHECK(command_matches_prefix("touch", "touch"));
  CHECK(command_matches_prefix("  git status -s", "git status "));
  CHECK_FALSE(command_matches_prefix("touchy a", "touch"));
  CHECK_FALSE(command_matches_prefix("git stash", "git status"));
  CHECK_FALSE(command_matches_prefix("rm -rf x", "touch"));
  CHECK_FALSE(command_matches_prefix("anything", ""));
  CHECK_FALSE(command_matches_prefix("anything", "   "));
}

TEST_CASE("shell control operators are detected outside quotes", "[allowlist]") {
  using codex::has_shell_operators;
  CHECK_FALSE(has_shell_operators("touch allowed.txt"));
  CHECK_FALSE(has_shell_operators("echo 'a;b|c>d'"));
  CHECK_FALSE(has_shell_operators("echo '$(id)'"));
  CHECK_FALSE(has_shell_operators("echo \"a;b\""));
  CHECK(has_shell_operators("touch a && rm -rf b"));
  CHECK(has_shell_operators("touch a; rm b"));
  CHECK(has_shell_operators("cat a | sh"));
  CHECK(has_shell_operators("echo x > f"));
  CHECK(has_shell_operators("echo \"$(id)\""));
  CHECK(has_shell_operators("echo `id`"));
  CHECK(has_shell_operators("touch a\nrm b"));
  CHECK(has_shell_operators("echo 'unterminated"));
}

TEST_CASE("path_is_under compares normalized paths", "[allowlist]") {
  TempDir tmp;
  const fs::path root = tmp.path / "root";
  fs::create_directories(root / "sub");
  fs::create_directories(tmp.path / "rootx");
  const std::string r = root.string();

  CHECK(codex::path_is_under(r, r));
  CHECK(codex::path_is_under(r + "/", r));
  CHECK(codex::path_is_under(r, r + "/"));
  CHECK(codex::path_is_under((root / "sub" / "new.txt").string(), r));
  CHECK(codex::path_is_under((root / "not-yet" / "deep" / "f").string(), r));
  CHECK(codex::path_is_under(r + "/sub/../a.txt", r));
  CHECK_FALSE(codex::path_is_under(r + "/../rootx/a.txt", r));
  CHECK_FALSE(codex::path_is_under((tmp.path / "rootx").string(), r));  // a name prefix only
  CHECK_FALSE(codex::path_is_under("/etc/passwd", r));
  // Relative paths need a base.
  CHECK_FALSE(codex::path_is_under("sub/a.txt", r));
  CHECK(codex::path_is_under("sub/a.txt", r, r));
  CHECK_FALSE(codex::path_is_under("../x", r, r));
  // A relative root is never trusted.
  CHECK_FALSE(codex::path_is_under(r, "root"));
  // A symlink inside the root that points outside does not make the target "inside".
  fs::create_directory_symlink(tmp.path / "rootx", root / "escape");
  CHECK_FALSE(codex::path_is_under((root / "escape" / "f.txt").string(), r));
  // A root given through a symlink matches the real path.
  fs::create_directory_symlink(root, tmp.path / "alias");
  CHECK(codex::path_is_under((root / "sub").string(), (tmp.path / "alias").string()));
}

TEST_CASE("allow_list_reply accepts listed commands inside the roots and declines the rest",
          "[allowlist]") {
  TempDir tmp;
  const std::string ws = tmp.path.string();
  const AllowList list{.command_prefixes = {"touch", "git status"}, .cwd_roots = {ws}};

  CHECK(decision_of(codex::allow_list_reply(list, command_request("touch allowed.txt", ws))) ==
        "accept");
  CHECK(decision_of(codex::allow_list_reply(list, command_request("git status -s", ws))) ==
        "accept");
  CHECK(decision_of(codex::allow_list_reply(list, command_request("rm -rf x", ws))) == "decline");
  CHECK(decision_of(codex::allow_list_reply(list, command_request("git stash", ws))) == "decline");
  CHECK(decision_of(codex::allow_list_reply(list, command_request("touch a && rm -rf b", ws))) ==
        "decline");
  CHECK(decision_of(codex::allow_list_reply(list, command_request("touch 'a;b'", ws))) == "accept");
  // cwd outside every root, or missing.
  CHECK(decision_of(codex::allow_list_reply(list, command_request("touch a", "/"))) == "decline");
  CHECK(decision_of(codex::allow_list_reply(list, command_request("touch a", ""))) == "decline");
  // No roots: any cwd.
  const AllowList anywhere{.command_prefixes = {"touch"}};
  CHECK(decision_of(codex::allow_list_reply(anywhere, command_request("touch a", "/"))) ==
        "accept");

  SECTION("no commandActions: the unwrapped command is checked") {
    auto r = command_request("touch a", ws);
    r.params.erase("commandActions");
    CHECK(decision_of(codex::allow_list_reply(list, r)) == "accept");
    r.params["command"] = "/bin/bash -c 'rm -rf a'";
    CHECK(decision_of(codex::allow_list_reply(list, r)) == "decline");
  }
  SECTION("every command action must match") {
    auto r = command_request("touch a", ws);
    json::object second;
    second["type"] = "unknown";
    second["command"] = "rm b";
    r.params["commandActions"].as_array().push_back(second);
    CHECK(decision_of(codex::allow_list_reply(list, r)) == "decline");
  }
  SECTION("operators in the full command decline even when the actions match") {
    auto r = command_request("touch a", ws);
    r.params["command"] = "/bin/bash -c 'touch a; rm -rf b'";
    CHECK(decision_of(codex::allow_list_reply(list, r)) == "decline");
  }
  SECTION("other kinds, network and extra permissions are declined") {
    auto r = command_request("touch a", ws);
    r.params["kind"] = "writeStdin";
    CHECK(decision_of(codex::allow_list_reply(list, r)) == "decline");
    r = command_request("touch a", ws);
    r.params["networkApprovalContext"] =
        json::parse(R"({"host":"example.com","protocol":"https"})");
    CHECK(decision_of(codex::allow_list_reply(list, r)) == "decline");
    r = command_request("touch a", ws);
    r.params["additionalPermissions"] = json::parse(R"({"network":{"enabled":true}})");
    CHECK(decision_of(codex::allow_list_reply(list, r)) == "decline");
  }
}

TEST_CASE("allow_list_reply checks file changes against the roots", "[allowlist]") {
  TempDir tmp;
  const std::string ws = tmp.path.string();
  const AllowList list{.cwd_roots = {ws}, .allow_file_changes_under_roots = true};
  // What 0.169.0 sends: no paths in the request.
  auto req = make_request(
      "item/fileChange/requestApproval",
      R"({"threadId":"thr_1","turnId":"turn_1","itemId":"call_mock_1","startedAtMs":1,)"
      R"("reason":null,"grantRoot":null})");
  auto item = [&](const std::string& id, const std::string& path) {
    json::object change;
    change["path"] = path;
    change["kind"] = json::parse(R"({"type":"add"})");
    change["diff"] = "hello\n";
    json::object it;
    it["type"] = "fileChange";
    it["id"] = id;
    it["changes"] = json::array{change};
    it["status"] = "inProgress";
    return it;
  };

  CHECK(decision_of(codex::allow_list_reply(list, req)) == "decline");  // paths unknown
  auto inside = item("call_mock_1", ws + "/notes.txt");
  CHECK(decision_of(codex::allow_list_reply(list, req, &inside)) == "accept");
  auto outside = item("call_mock_1", "/etc/notes.txt");
  CHECK(decision_of(codex::allow_list_reply(list, req, &outside)) == "decline");
  auto other_item = item("call_mock_9", ws + "/notes.txt");
  CHECK(decision_of(codex::allow_list_reply(list, req, &other_item)) == "decline");
  const AllowList no_files{.cwd_roots = {ws}};
  CHECK(decision_of(codex::allow_list_reply(no_files, req, &inside)) == "decline");
  const AllowList no_roots{.allow_file_changes_under_roots = true};
  CHECK(decision_of(codex::allow_list_reply(no_roots, req, &inside)) == "decline");

  SECTION("changes in the params are used when present") {
    auto with_changes = req;
    with_changes.params["changes"] = inside["changes"];
    CHECK(decision_of(codex::allow_list_reply(list, with_changes)) == "accept");
    with_changes.params["changes"] = outside["changes"];
    CHECK(decision_of(codex::allow_list_reply(list, with_changes)) == "decline");
  }
  SECTION("a move target and a grant root must be inside too") {
    auto moved = item("call_mock_1", ws + "/a.txt");
    moved["changes"].as_array()[0].as_object()["kind"] =
        json::parse(R"({"type":"update","move_path":"/tmp/elsewhere.txt"})");
    CHECK(decision_of(codex::allow_list_reply(list, req, &moved)) == "decline");
    auto grant = req;
    grant.params["grantRoot"] = "/";
    CHECK(decision_of(codex::allow_list_reply(list, grant, &inside)) == "decline");
    grant.params["grantRoot"] = ws;
    CHECK(decision_of(codex::allow_list_reply(list, grant, &inside)) == "accept");
  }
}

TEST_CASE("allow_list_reply refuses everything else like ServerReply::refuse", "[allowlist]") {
  const AllowList list{.command_prefixes = {"touch"}};
  for (const char* method : {"item/permissions/requestApproval", "item/tool/requestUserInput",
                             "mcpServer/elicitation/request", "item/tool/call",
                             "account/chatgptAuthTokens/refresh", "something/new"}) {
    auto req = make_request(method, R"({"threadId":"t","turnId":"u","itemId":"i"})");
    auto got = codex::allow_list_reply(list, req);
    auto want = ServerReply::refuse(req);
    INFO(method);
    CHECK(got.error_code == want.error_code);
    CHECK(got.result.has_value() == want.result.has_value());
    if (got.result && want.result) CHECK(*got.result == *want.result);
  }
}

TEST_CASE("allow_commands is an async handler", "[allowlist]") {
  auto h = codex::allow_commands({.command_prefixes = {"touch"}});
  CHECK(static_cast<bool>(h));
  CHECK(static_cast<bool>(h.async_handler()));
  CHECK_FALSE(static_cast<bool>(h.sync_handler()));
}

TEST_CASE("CommandApprovalRequest reads the real request shape", "[views]") {
  auto req = make_request("item/commandExecution/requestApproval", R"({
    "kind":"command","threadId":"thr_1","turnId":"turn_1","itemId":"call_mock_1",
    "startedAtMs":1,"environmentId":"local",
    "command":"/bin/bash -c 'touch approved_accept.txt && echo created approved_accept.txt'",
    "cwd":"/w","reason":"need to write outside the sandbox",
    "commandActions":[{"type":"unknown",
                       "command":"touch approved_accept.txt && echo created approved_accept.txt"}],
    "proposedExecpolicyAmendment":["touch","approved_accept.txt"],
    "availableDecisions":["accept",
        {"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["touch","approved_accept.txt"]}},
        "cancel"]})");
  auto v = codex::CommandApprovalRequest::from(req);
  REQUIRE(v);
  CHECK(v->thread_id == "thr_1");
  CHECK(v->turn_id == "turn_1");
  CHECK(v->item_id == "call_mock_1");
  CHECK(v->kind == "command");
  CHECK(v->cwd == "/w");
  CHECK(v->reason == "need to write outside the sandbox");
  CHECK(v->inner_commands ==
        std::vector<std::string>{"touch approved_accept.txt && echo created approved_accept.txt"});
  CHECK(v->proposed_execpolicy_amendment ==
        std::vector<std::string>{"touch", "approved_accept.txt"});
  CHECK(v->available_decisions.size() == 3);
  CHECK(v->offers("accept"));
  CHECK(v->offers("acceptWithExecpolicyAmendment"));
  CHECK(v->offers("cancel"));
  CHECK_FALSE(v->offers("acceptForSession"));
  CHECK_FALSE(v->network_approval_context);
  CHECK_FALSE(v->approval_id);

  auto other = make_request("item/fileChange/requestApproval", R"({"itemId":"x"})");
  CHECK_FALSE(codex::CommandApprovalRequest::from(other));
  CHECK_FALSE(codex::FileChangeApprovalRequest::from(req));
}

TEST_CASE("FileChangeApprovalRequest takes the changes from the item", "[views]") {
  auto req = make_request("item/fileChange/requestApproval",
                          R"({"threadId":"t","turnId":"u","itemId":"call_1","reason":"why",)"
                          R"("grantRoot":null})");
  auto bare = codex::FileChangeApprovalRequest::from(req);
  REQUIRE(bare);
  CHECK_FALSE(bare->changes_known);
  CHECK(bare->reason == "why");
  CHECK_FALSE(bare->grant_root);
  auto item = json::parse(R"({"type":"fileChange","id":"call_1","status":"inProgress",
      "changes":[{"path":"/w/a.txt","kind":{"type":"add"},"diff":"x\n"},
                 {"path":"/w/b.txt","kind":{"type":"update","move_path":"/w/c.txt"},"diff":""}]})")
                  .as_object();
  auto v = codex::FileChangeApprovalRequest::from(req, &item);
  REQUIRE(v);
  REQUIRE(v->changes_known);
  REQUIRE(v->changes.size() == 2);
  CHECK(v->changes[0].path == "/w/a.txt");
  CHECK(v->changes[0].kind == "add");
  CHECK(v->changes[0].diff == "x\n");
  CHECK(v->changes[1].kind == "update");
  CHECK(v->changes[1].move_path == "/w/c.txt");
}

TEST_CASE("replies with payloads have the protocol's wire shapes", "[replies]") {
  require_json(codex::accept_with_execpolicy_amendment({"touch", "a.txt"}),
               R"({"decision":{"acceptWithExecpolicyAmendment":)"
               R"({"execpolicy_amendment":["touch","a.txt"]}}})");
  require_json(codex::apply_network_policy_amendment("example.com", "allow"),
               R"({"decision":{"applyNetworkPolicyAmendment":)"
               R"({"network_policy_amendment":{"host":"example.com","action":"allow"}}}})");
  auto perms = json::parse(R"({"network":{"enabled":true}})").as_object();
  require_json(codex::grant_permissions(perms, "session"),
               R"({"permissions":{"network":{"enabled":true}},"scope":"session"})");
  require_json(codex::grant_permissions({}), R"({"permissions":{},"scope":"turn"})");
  require_json(codex::user_input_answers({{"q1", {"yes"}}, {"q2", {"a", "b"}}}),
               R"({"answers":{"q1":{"answers":["yes"]},"q2":{"answers":["a","b"]}}})");
  require_json(codex::user_input_answers({}), R"({"answers":{}})");
  require_json(codex::elicitation("decline"), R"({"action":"decline"})");
  require_json(codex::elicitation("accept", json::parse(R"({"name":"x"})")),
               R"({"action":"accept","content":{"name":"x"}})");
  require_json(codex::dynamic_tool_result({"one", "two"}, true),
               R"({"contentItems":[{"type":"inputText","text":"one"},)"
               R"({"type":"inputText","text":"two"}],"success":true})");
  require_json(codex::dynamic_tool_result({}, false), R"({"contentItems":[],"success":false})");
  require_json(ServerReply::decision(ApprovalDecision::accept_for_session),
               R"({"decision":"acceptForSession"})");
}
