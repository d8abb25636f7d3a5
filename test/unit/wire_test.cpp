// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Unit tests of the wire mapping: option structs -> exact params (python-sdk-behavior.md §2),
// Input::to_wire, the sandbox and approval-mode presets.

#include <catch2/catch.hpp>

#include "engine.hpp"

#include <codex/inputs.hpp>
#include <codex/options.hpp>
#include <codex/policy.hpp>
#include <codex/results.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <string_view>

namespace json = boost::json;
using codex::ApprovalMode;
using codex::Sandbox;

namespace {

/// Compares a built object with the expected JSON text (key order does not matter). The
/// serialized forms are captured so a failure shows both.
void require_json(const json::object& got, std::string_view expected) {
  const json::value want = json::parse(expected);
  INFO("got:      " << json::serialize(got));
  INFO("expected: " << json::serialize(want));
  REQUIRE(json::value(got) == want);
}

void require_json(const json::array& got, std::string_view expected) {
  const json::value want = json::parse(expected);
  INFO("got:      " << json::serialize(got));
  INFO("expected: " << json::serialize(want));
  REQUIRE(json::value(got) == want);
}

json::object config_object() {
  json::object c;
  c["model_reasoning_effort"] = "high";
  c["features"] = json::object{{"goals", true}};
  return c;
}

}  // namespace

// ---------------------------------------------------------------- thread/start

TEST_CASE("thread_start_params: defaults send auto_review", "[wire]") {
  require_json(codex::detail::thread_start_params({}),
               R"({"approvalPolicy":"on-request","approvalsReviewer":"auto_review"})");
}

TEST_CASE("thread_start_params: server_default sends nothing", "[wire]") {
  require_json(codex::detail::thread_start_params({.approval_mode = ApprovalMode::server_default}),
               "{}");
  require_json(codex::detail::thread_start_params({.approval_mode = std::nullopt}), "{}");
}

TEST_CASE("thread_start_params: every option", "[wire]") {
  codex::ThreadStartOptions o{.approval_mode = ApprovalMode::deny_all,
                              .base_instructions = "base",
                              .config = config_object(),
                              .cwd = "/work",
                              .developer_instructions = "dev",
                              .ephemeral = true,
                              .model = "gpt-5.4",
                              .model_provider = "openai",
                              .personality = "none",
                              .sandbox = Sandbox::workspace_write,
                              .service_name = "svc",
                              .service_tier = "priority",
                              .session_start_source = "startup",
                              .thread_source = "user"};
  require_json(codex::detail::thread_start_params(o), R"({
    "approvalPolicy":"never",
    "baseInstructions":"base",
    "config":{"model_reasoning_effort":"high","features":{"goals":true}},
    "cwd":"/work",
    "developerInstructions":"dev",
    "ephemeral":true,
    "model":"gpt-5.4",
    "modelProvider":"openai",
    "personality":"none",
    "sandbox":"workspace-write",
    "serviceName":"svc",
    "serviceTier":"priority",
    "sessionStartSource":"startup",
    "threadSource":"user"})");
}

TEST_CASE("thread_start_params: sandbox strings", "[wire]") {
  using codex::detail::thread_start_params;
  auto with = [](Sandbox s) {
    return thread_start_params({.approval_mode = ApprovalMode::server_default, .sandbox = s});
  };
  require_json(with(Sandbox::read_only), R"({"sandbox":"read-only"})");
  require_json(with(Sandbox::workspace_write), R"({"sandbox":"workspace-write"})");
  require_json(with(Sandbox::full_access), R"({"sandbox":"danger-full-access"})");
  REQUIRE_THROWS_AS(with(static_cast<Sandbox>(42)), std::invalid_argument);
}

// ---------------------------------------------------------------- thread/resume, thread/fork

TEST_CASE("thread_resume_params", "[wire]") {
  using codex::detail::thread_resume_params;
  SECTION("nothing set: only the id") {
    require_json(thread_resume_params("th-1", {}), R"({"threadId":"th-1"})");
  }
  SECTION("every option") {
    codex::ThreadResumeOptions o{.approval_mode = ApprovalMode::ask_client,
                                 .base_instructions = "base",
                                 .config = config_object(),
                                 .cwd = "/w",
                                 .developer_instructions = "dev",
                                 .include_turns = true,
                                 .model = "m",
                                 .model_provider = "p",
                                 .personality = "friendly",
                                 .sandbox = Sandbox::read_only,
                                 .service_tier = "flex"};
    require_json(thread_resume_params("th-1", o), R"({
      "threadId":"th-1",
      "approvalPolicy":"on-request","approvalsReviewer":"user",
      "baseInstructions":"base",
      "config":{"model_reasoning_effort":"high","features":{"goals":true}},
      "cwd":"/w",
      "developerInstructions":"dev",
      "excludeTurns":false,
      "model":"m",
      "modelProvider":"p",
      "personality":"friendly",
      "sandbox":"read-only",
      "serviceTier":"flex"})");
  }
  SECTION("include_turns is sent inverted as excludeTurns") {
    require_json(thread_resume_params("t", {.include_turns = false}),
                 R"({"threadId":"t","excludeTurns":true})");
    require_json(thread_resume_params("t", {.include_turns = true}),
                 R"({"threadId":"t","excludeTurns":false})");
  }
  SECTION("an empty id is rejected") {
    REQUIRE_THROWS_AS(thread_resume_params("", {}), std::invalid_argument);
  }
}

TEST_CASE("thread_fork_params", "[wire]") {
  using codex::detail::thread_fork_params;
  SECTION("nothing set: only the id") {
    require_json(thread_fork_params("th-2", {}), R"({"threadId":"th-2"})");
  }
  SECTION("every option") {
    codex::ThreadForkOptions o{.approval_mode = ApprovalMode::ask_client_untrusted,
                               .base_instructions = "base",
                               .config = config_object(),
                               .cwd = "/w",
                               .developer_instructions = "dev",
                               .ephemeral = false,
                               .include_turns = false,
                               .model = "m",
                               .model_provider = "p",
                               .sandbox = Sandbox::full_access,
                               .service_tier = "priority",
                               .thread_source = "subagent"};
    require_json(thread_fork_params("th-2", o), R"({
      "threadId":"th-2",
      "approvalPolicy":"untrusted","approvalsReviewer":"user",
      "baseInstructions":"base",
      "config":{"model_reasoning_effort":"high","features":{"goals":true}},
      "cwd":"/w",
      "developerInstructions":"dev",
      "ephemeral":false,
      "excludeTurns":true,
      "model":"m",
      "modelProvider":"p",
      "sandbox":"danger-full-access",
      "serviceTier":"priority",
      "threadSource":"subagent"})");
  }
  SECTION("an empty id is rejected") {
    REQUIRE_THROWS_AS(thread_fork_params("", {}), std::invalid_argument);
  }
}

// ---------------------------------------------------------------- thread/list, model/list

TEST_CASE("thread_list_params", "[wire]") {
  using codex::detail::thread_list_params;
  require_json(thread_list_params({}), "{}");
  codex::ThreadListOptions o{.archived = true,
                             .cursor = "c1",
                             .cwd = std::vector<std::string>{"/a", "/b"},
                             .limit = 25,
                             .model_providers = std::vector<std::string>{"openai"},
                             .search_term = "fix",
                             .sort_direction = "asc",
                             .sort_key = "updated_at",
                             .source_kinds = std::vector<std::string>{"cli", "appServer"},
                             .use_state_db_only = false};
  require_json(thread_list_params(o), R"({
    "archived":true,
    "cursor":"c1",
    "cwd":["/a","/b"],
    "limit":25,
    "modelProviders":["openai"],
    "searchTerm":"fix",
    "sortDirection":"asc",
    "sortKey":"updated_at",
    "sourceKinds":["cli","appServer"],
    "useStateDbOnly":false})");
  // A single cwd goes as a string (ThreadListCwdFilter is a string or a list).
  require_json(thread_list_params({.cwd = std::vector<std::string>{"/only"}}),
               R"({"cwd":"/only"})");
}

TEST_CASE("models_params", "[wire]") {
  using codex::detail::models_params;
  require_json(models_params({}), R"({"includeHidden":false})");
  require_json(models_params({.include_hidden = true, .cursor = "n", .limit = 5}),
               R"({"includeHidden":true,"cursor":"n","limit":5})");
}

// ---------------------------------------------------------------- turn/start

TEST_CASE("turn_start_params", "[wire]") {
  using codex::detail::turn_start_params;
  SECTION("string input, nothing else") {
    require_json(turn_start_params("th", "hello", {}),
                 R"({"threadId":"th","input":[{"type":"text","text":"hello"}]})");
  }
  SECTION("every option") {
    json::object schema;
    schema["type"] = "object";
    schema["properties"] = json::object{{"answer", json::object{{"type", "string"}}}};
    codex::TurnOptions o{.approval_mode = ApprovalMode::auto_review,
                         .cwd = "/w",
                         .effort = "high",
                         .model = "gpt-5.4",
                         .output_schema = schema,
                         .personality = "pragmatic",
                         .sandbox = Sandbox::workspace_write,
                         .service_tier = "priority",
                         .summary = "concise",
                         .turn_service_tier = "default"};
    require_json(turn_start_params("th", codex::Input{codex::TextInput{"go"}}, o), R"({
      "threadId":"th",
      "input":[{"type":"text","text":"go"}],
      "approvalPolicy":"on-request","approvalsReviewer":"auto_review",
      "cwd":"/w",
      "effort":"high",
      "model":"gpt-5.4",
      "outputSchema":{"type":"object","properties":{"answer":{"type":"string"}}},
      "personality":"pragmatic",
      "sandboxPolicy":{"type":"workspaceWrite","writableRoots":[],"networkAccess":false,
                       "excludeTmpdirEnvVar":false,"excludeSlashTmp":false},
      "serviceTier":"priority",
      "summary":"concise",
      "serviceTierForTurn":"default"})");
  }
  SECTION("deny_all on a turn") {
    require_json(turn_start_params("th", "x", {.approval_mode = ApprovalMode::deny_all}),
                 R"({"threadId":"th","input":[{"type":"text","text":"x"}],
                     "approvalPolicy":"never"})");
  }
  SECTION("sandbox presets become sandboxPolicy objects") {
    require_json(turn_start_params("th", "x", {.sandbox = Sandbox::read_only}),
                 R"({"threadId":"th","input":[{"type":"text","text":"x"}],
                     "sandboxPolicy":{"type":"readOnly","networkAccess":false}})");
    require_json(turn_start_params("th", "x", {.sandbox = Sandbox::full_access}),
                 R"({"threadId":"th","input":[{"type":"text","text":"x"}],
                     "sandboxPolicy":{"type":"dangerFullAccess"}})");
  }
  SECTION("invalid arguments") {
    REQUIRE_THROWS_AS(turn_start_params("", "x", {}), std::invalid_argument);
    REQUIRE_THROWS_AS(turn_start_params("th", std::vector<codex::InputItem>{}, {}),
                      std::invalid_argument);
    REQUIRE_THROWS_AS(turn_start_params("th", "x", {.sandbox = static_cast<Sandbox>(9)}),
                      std::invalid_argument);
    REQUIRE_THROWS_AS(turn_start_params("th", "x", {.approval_mode = static_cast<ApprovalMode>(9)}),
                      std::invalid_argument);
  }
}

// ---------------------------------------------------------------- inputs

TEST_CASE("Input::to_wire for each item kind", "[wire][inputs]") {
  using namespace codex;
  require_json(Input("plain").to_wire(), R"([{"type":"text","text":"plain"}])");
  require_json(Input(std::string("str")).to_wire(), R"([{"type":"text","text":"str"}])");
  require_json(Input(TextInput{"t"}).to_wire(), R"([{"type":"text","text":"t"}])");
  require_json(Input(ImageInput{"data:image/png;base64,AAAA"}).to_wire(),
               R"([{"type":"image","url":"data:image/png;base64,AAAA"}])");
  require_json(Input(LocalImageInput{"/tmp/a.png"}).to_wire(),
               R"([{"type":"localImage","path":"/tmp/a.png"}])");
  require_json(Input(SkillInput{"review", "/skills/review/SKILL.md"}).to_wire(),
               R"([{"type":"skill","name":"review","path":"/skills/review/SKILL.md"}])");
  require_json(Input(MentionInput{"github", "app://github"}).to_wire(),
               R"([{"type":"mention","name":"github","path":"app://github"}])");
  // A list keeps its order; non-ASCII text goes through unchanged.
  require_json(Input({TextInput{"h\xC3\xA9"}, LocalImageInput{"/i.png"}, TextInput{"b"}}).to_wire(),
               R"([{"type":"text","text":"h\u00e9"},{"type":"localImage","path":"/i.png"},
                   {"type":"text","text":"b"}])");
  require_json(Input(std::vector<InputItem>{MentionInput{"n", "p"}}).to_wire(),
               R"([{"type":"mention","name":"n","path":"p"}])");
}

TEST_CASE("Input::to_wire rejects invalid inputs", "[wire][inputs]") {
  using namespace codex;
  CHECK_THROWS_AS(Input(std::vector<InputItem>{}).to_wire(), std::invalid_argument);
  CHECK_THROWS_AS(Input(ImageInput{""}).to_wire(), std::invalid_argument);
  CHECK_THROWS_AS(Input(LocalImageInput{""}).to_wire(), std::invalid_argument);
  CHECK_THROWS_AS(Input(SkillInput{"", "/p"}).to_wire(), std::invalid_argument);
  CHECK_THROWS_AS(Input(SkillInput{"n", ""}).to_wire(), std::invalid_argument);
  CHECK_THROWS_AS(Input(MentionInput{"", "/p"}).to_wire(), std::invalid_argument);
  CHECK_THROWS_AS(Input(MentionInput{"n", ""}).to_wire(), std::invalid_argument);
  // One bad item in a list fails the whole input.
  CHECK_THROWS_AS(Input({TextInput{"ok"}, ImageInput{""}}).to_wire(), std::invalid_argument);
}

// ---------------------------------------------------------------- presets

TEST_CASE("sandbox_policy_wire matches python-sdk-behavior.md 2.7 exactly", "[wire][policy]") {
  require_json(codex::sandbox_policy_wire(Sandbox::read_only),
               R"({"type":"readOnly","networkAccess":false})");
  require_json(codex::sandbox_policy_wire(Sandbox::workspace_write),
               R"({"type":"workspaceWrite","writableRoots":[],"networkAccess":false,
                   "excludeTmpdirEnvVar":false,"excludeSlashTmp":false})");
  require_json(codex::sandbox_policy_wire(Sandbox::full_access), R"({"type":"dangerFullAccess"})");
  REQUIRE_THROWS_AS(codex::sandbox_policy_wire(static_cast<Sandbox>(3)), std::invalid_argument);

  CHECK(codex::sandbox_mode_wire(Sandbox::read_only) == "read-only");
  CHECK(codex::sandbox_mode_wire(Sandbox::workspace_write) == "workspace-write");
  CHECK(codex::sandbox_mode_wire(Sandbox::full_access) == "danger-full-access");
  CHECK(codex::to_string(Sandbox::workspace_write) == "workspace_write");
}

TEST_CASE("apply_approval_mode for all five modes", "[wire][policy]") {
  auto applied = [](ApprovalMode m) {
    json::object p;
    p["threadId"] = "t";  // existing keys are kept
    codex::apply_approval_mode(p, m);
    return p;
  };
  require_json(
      applied(ApprovalMode::auto_review),
      R"({"threadId":"t","approvalPolicy":"on-request","approvalsReviewer":"auto_review"})");
  require_json(applied(ApprovalMode::deny_all), R"({"threadId":"t","approvalPolicy":"never"})");
  require_json(applied(ApprovalMode::ask_client),
               R"({"threadId":"t","approvalPolicy":"on-request","approvalsReviewer":"user"})");
  require_json(applied(ApprovalMode::ask_client_untrusted),
               R"({"threadId":"t","approvalPolicy":"untrusted","approvalsReviewer":"user"})");
  require_json(applied(ApprovalMode::server_default), R"({"threadId":"t"})");
  REQUIRE_THROWS_AS(applied(static_cast<ApprovalMode>(77)), std::invalid_argument);

  CHECK(codex::to_string(ApprovalMode::ask_client_untrusted) == "ask_client_untrusted");
  CHECK(codex::to_string(ApprovalMode::server_default) == "server_default");
}

// ---------------------------------------------------------------- notifications

TEST_CASE("Notification accessors", "[wire][results]") {
  codex::Notification n;
  n.method = "item/agentMessage/delta";
  n.params =
      json::parse(R"({"threadId":"th","turnId":"tu","itemId":"it","delta":"d"})").as_object();
  CHECK(n.turn_id() == "tu");
  CHECK(n.thread_id() == "th");
  CHECK(n.item_id() == "it");
  CHECK(n.delta() == "d");
  CHECK_FALSE(n.is_request());

  codex::Notification c;
  c.method = "turn/completed";
  c.params =
      json::parse(R"({"threadId":"th","turn":{"id":"tu2","status":"completed"}})").as_object();
  CHECK(c.turn_id() == "tu2");
  codex::Notification none;
  CHECK(none.turn_id().empty());

  CHECK(codex::turn_status_from_wire("inProgress") == codex::TurnStatus::in_progress);
  CHECK(codex::turn_status_from_wire("failed") == codex::TurnStatus::failed);
  CHECK(codex::turn_status_from_wire("weird") == codex::TurnStatus::unknown);
  CHECK(codex::to_string(codex::TurnStatus::interrupted) == "interrupted");
}
