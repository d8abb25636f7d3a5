// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// End-to-end thread lifecycle, resume across processes, approval-mode persistence, models,
// metadata and login, against the real pinned `codex app-server`.
//
// The [login] tests run serially (CTest RESOURCE_LOCK): the ChatGPT browser login listens on the
// fixed port 127.0.0.1:1455.

#include "e2e_fixture.hpp"

using namespace e2e;
using codex::ApprovalMode;
using codex::TurnStatus;

namespace {

/// The `thread` object of a thread/read|start|resume|fork result.
const json::object& thread_of(const json::object& res) {
  const auto* t = obj_at(res, {"thread"});
  REQUIRE(t != nullptr);
  return *t;
}

/// `thread.turns` of a result (empty when absent).
json::array turns_of(const json::object& res) {
  if (const auto* t = obj_at(res, {"thread"}))
    if (const auto* turns = t->if_contains("turns"); turns && turns->is_array())
      return turns->get_array();
  return {};
}

}  // namespace

TEST_CASE("thread set_name then read shows the name, read(include_turns) returns the turns",
          "[e2e][lifecycle]") {
  Env e;
  e.server.enqueue(Response::message("First answer.", {.deltas = 2}));
  e.server.enqueue(Response::message("Second answer.", {.deltas = 2}));
  codex::Codex codex(e.config());
  auto t = codex.thread_start();
  auto r1 = t.run("First question.");
  auto r2 = t.run("Second question.");

  CHECK(t.set_name("history demo").empty());
  auto plain = t.read();
  CHECK(str(thread_of(plain), "id") == t.id());
  CHECK(str(thread_of(plain), "name") == "history demo");
  CHECK(str(thread_of(plain), "preview") == "First question.");
  CHECK(turns_of(plain).empty());

  auto full = t.read({.include_turns = true});
  auto turns = turns_of(full);
  REQUIRE(turns.size() == 2);
  std::vector<std::string> turn_ids;
  std::string all_items;
  for (const auto& turn : turns) {
    const auto& o = turn.as_object();
    turn_ids.push_back(str(o, "id"));
    CHECK(str(o, "status") == "completed");
    all_items += json::serialize(o);
  }
  CHECK(contains(turn_ids, r1.id));
  CHECK(contains(turn_ids, r2.id));
  CHECK(all_items.find("First question.") != std::string::npos);
  CHECK(all_items.find("Second answer.") != std::string::npos);
}

TEST_CASE("thread_list hides archived threads unless archived=true, unarchive keeps the id",
          "[e2e][lifecycle]") {
  Env e;
  e.server.enqueue(Response::message("Kept."));
  e.server.enqueue(Response::message("Archived."));
  codex::Codex codex(e.config());
  auto keep = codex.thread_start();
  keep.run("Keep me.");
  auto gone = codex.thread_start();
  gone.run("Archive me.");

  auto all = listed_ids(codex.thread_list());
  CHECK(contains(all, keep.id()));
  CHECK(contains(all, gone.id()));

  CHECK(codex.thread_archive(gone.id()).empty());
  auto visible = listed_ids(codex.thread_list());
  CHECK(contains(visible, keep.id()));
  CHECK_FALSE(contains(visible, gone.id()));
  auto archived = listed_ids(codex.thread_list({.archived = true}));
  CHECK(contains(archived, gone.id()));
  CHECK_FALSE(contains(archived, keep.id()));

  auto back = codex.thread_unarchive(gone.id());
  CHECK(back.id() == gone.id());
  CHECK(str(thread_of(back.response()), "id") == gone.id());
  auto again = listed_ids(codex.thread_list());
  CHECK(contains(again, keep.id()));
  CHECK(contains(again, gone.id()));
}

TEST_CASE("async lifecycle round trip: archive returns {}, unarchive keeps the id",
          "[e2e][lifecycle][async]") {
  AsyncEnv e;
  e.server.enqueue(Response::message("Materialized."));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());
  auto body = [&]() -> asio::awaitable<void> {
    auto t = co_await codex.thread_start();
    co_await t.run("Materialize the rollout.");
    auto named = co_await t.set_name("async demo");
    CHECK(named.empty());
    auto archived = co_await codex.thread_archive(t.id());
    CHECK(archived.empty());
    codex::ThreadListOptions only_archived;
    only_archived.archived = true;
    auto listed = co_await codex.thread_list(std::move(only_archived));
    CHECK(contains(listed_ids(listed), t.id()));
    auto back = co_await codex.thread_unarchive(t.id());
    CHECK(back.id() == t.id());
    auto read = co_await back.read();
    CHECK(str(thread_of(read), "name") == "async demo");
    co_await codex.close();
  };
  run_async(e.ioc, body());
}

TEST_CASE("thread_fork returns a distinct thread whose first model request replays the history",
          "[e2e][lifecycle]") {
  Env e;
  e.server.enqueue(Response::message("First answer.", {.deltas = 2}));
  e.server.enqueue(Response::message("Fork answer.", {.deltas = 2}));
  codex::Codex codex(e.config());
  auto source = codex.thread_start();
  source.run("First question.");

  auto fork = codex.thread_fork(source.id());
  CHECK(fork.id() != source.id());
  CHECK(str(thread_of(fork.response()), "forkedFromId") == source.id());

  auto r = fork.run("Question on the fork.");
  CHECK(r.status == TurnStatus::completed);
  CHECK(r.final_response == std::optional<std::string>("Fork answer."));

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].session_id() == fork.id());
  CHECK(texts_contain(reqs[1], "First question."));
  CHECK(texts_contain(reqs[1], "First answer."));
  CHECK(reqs[1].last_user_text() == std::optional<std::string>("Question on the fork."));
}

TEST_CASE("compact() returns {} and runs a compaction turn that calls the model",
          "[e2e][lifecycle]") {
  Env e;
  e.server.enqueue(Response::message("First answer."));
  e.server.enqueue(Response::message("COMPACTED SUMMARY MARKER"));
  e.server.enqueue(Response::message("After compaction."));
  codex::Codex codex(e.config());
  auto t = codex.thread_start();
  t.run("First question.");
  drain_events(codex);

  auto res = t.compact();
  CHECK(res.empty());
  REQUIRE(wait_for_model_requests(e.server, 2));

  // The compaction runs as a turn of its own; the thread goes idle when it is over.
  wait_for_event(codex, [&](const Notification& n) {
    if (n.method != "thread/status/changed" || n.thread_id() != t.id()) return false;
    const auto* status = obj_at(n.params, {"status"});
    return status && str(*status, "type") == "idle";
  });

  auto after = t.run("Next question.");
  CHECK(after.status == TurnStatus::completed);
  CHECK(after.final_response == std::optional<std::string>("After compaction."));
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 3);
  CHECK(body_contains(reqs[2], "COMPACTED SUMMARY MARKER"));
}

TEST_CASE("resume from a second app-server process on the same CODEX_HOME sees the history",
          "[e2e][lifecycle][resume]") {
  Env e;
  e.server.enqueue(Response::message("First answer.", {.deltas = 2}));
  e.server.enqueue(Response::message("Third answer.", {.deltas = 2}));
  std::string id;
  pid_t first_pid = 0;
  {
    codex::Codex first(e.config());
    first_pid = the_app_server_pid(e.codex_home());
    auto t = first.thread_start();
    t.run("First question.");
    t.set_name("history demo");
    id = t.id();
    first.close();
  }
  CHECK(process_state(first_pid) == "gone");

  codex::testing::RealCodexEnv second_env(e.server, e.codex_home());
  auto cfg = second_env.config();
  cfg.request_timeout = 30s;
  codex::Codex second(cfg);
  CHECK(the_app_server_pid(e.codex_home()) != first_pid);

  CHECK(contains(listed_ids(second.thread_list()), id));
  auto resumed = second.thread_resume(id);
  CHECK(resumed.id() == id);
  CHECK(str(thread_of(resumed.response()), "name") == "history demo");
  CHECK(turns_of(resumed.response()).size() == 1);

  auto r = resumed.run("Third question after resume.");
  CHECK(r.status == TurnStatus::completed);
  CHECK(r.final_response == std::optional<std::string>("Third answer."));
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].session_id() == id);
  CHECK(texts_contain(reqs[1], "First question."));
  CHECK(texts_contain(reqs[1], "First answer."));
  CHECK(reqs[1].last_user_text() == std::optional<std::string>("Third question after resume."));
}

TEST_CASE("models() returns a non-empty catalog, metadata reports codex 0.169.0",
          "[e2e][lifecycle][metadata]") {
  Env e;
  codex::Codex codex(e.config());
  const auto& md = codex.metadata();
  CHECK(md.server_version == "0.169.0");
  CHECK(md.user_agent.rfind("codex_cpp_sdk/0.169.0", 0) == 0);
  CHECK(!md.server_name.empty());
  REQUIRE(md.codex_home.has_value());
  CHECK(fs::equivalent(*md.codex_home, e.codex_home()));

  auto models = codex.models();
  const auto* data = models.if_contains("data");
  REQUIRE(data != nullptr);
  REQUIRE(data->is_array());
  CHECK(!data->get_array().empty());
  for (const auto& m : data->get_array())
    CHECK(!str(m.as_object(), "id").empty());

  auto page = codex.models({.limit = 1});
  REQUIRE(page.if_contains("data"));
  CHECK(page.at("data").as_array().size() == 1);
}

TEST_CASE("deny_all: thread_resume keeps approvalPolicy never, forks inherit or override it",
          "[e2e][lifecycle][approvals]") {
  Env e;
  e.server.enqueue(Response::message("Denied by default."));
  e.server.enqueue(Response::message("Asking source."));
  codex::Codex codex(e.config());

  auto t = codex.thread_start({.approval_mode = ApprovalMode::deny_all});
  CHECK(str(t.response(), "approvalPolicy") == "never");
  t.run("Hello.");

  auto resumed = codex.thread_resume(t.id());
  CHECK(resumed.id() == t.id());
  CHECK(str(resumed.response(), "approvalPolicy") == "never");

  auto fork = codex.thread_fork(t.id());
  CHECK(fork.id() != t.id());
  CHECK(str(fork.response(), "approvalPolicy") == "never");

  // Forking an on-request source with deny_all gives never.
  auto asking = codex.thread_start();
  CHECK(str(asking.response(), "approvalPolicy") == "on-request");
  asking.run("Hello too.");
  auto denied_fork = codex.thread_fork(asking.id(), {.approval_mode = ApprovalMode::deny_all});
  CHECK(str(denied_fork.response(), "approvalPolicy") == "never");
}

TEST_CASE("a turn-level approval mode persists until an explicit override",
          "[e2e][lifecycle][approvals]") {
  Env e;
  for (const char* text : {"One.", "Two.", "Three."})
    e.server.enqueue(Response::message(text));
  codex::Codex codex(e.config());
  auto t = codex.thread_start();
  CHECK(str(t.response(), "approvalPolicy") == "on-request");

  t.run("First turn, deny_all.", {.approval_mode = ApprovalMode::deny_all});
  t.run("Second turn, no mode.");
  auto after_two = codex.thread_resume(t.id());
  CHECK(str(after_two.response(), "approvalPolicy") == "never");

  t.run("Third turn, auto_review.", {.approval_mode = ApprovalMode::auto_review});
  auto after_three = codex.thread_resume(t.id());
  CHECK(str(after_three.response(), "approvalPolicy") == "on-request");
  CHECK(str(after_three.response(), "approvalsReviewer") == "auto_review");
}

TEST_CASE("login: API key login, account(), login events on next_event(), logout", "[e2e][login]") {
  Env e;
  codex::Codex codex(e.config());
  const fs::path auth_json = e.codex_home() / "auth.json";

  auto before = codex.account();
  CHECK_FALSE(before.account.has_value());
  CHECK_FALSE(before.requires_openai_auth);

  codex.login_api_key("sk-mock-not-a-real-key");
  auto completed = wait_for_event(
      codex, [](const Notification& n) { return n.method == "account/login/completed"; });
  CHECK(completed.params.at("success") == json::value(true));
  CHECK(completed.params.at("loginId").is_null());
  auto updated =
      wait_for_event(codex, [](const Notification& n) { return n.method == "account/updated"; });
  CHECK(str(updated.params, "authMode") == "apikey");
  CHECK(fs::exists(auth_json));

  // With the custom 127.0.0.1 provider the server reports no account and no OpenAI auth needed,
  // even after the login (observed with codex 0.169.0).
  auto after = codex.account();
  CHECK_FALSE(after.account.has_value());
  CHECK_FALSE(after.requires_openai_auth);
  CHECK(after.raw.contains("account"));

  codex.logout();
  auto logged_out =
      wait_for_event(codex, [](const Notification& n) { return n.method == "account/updated"; });
  CHECK(logged_out.params.at("authMode").is_null());
  CHECK_FALSE(fs::exists(auth_json));
  CHECK_FALSE(codex.account().account.has_value());
}

TEST_CASE("login: async API key login and logout round trip", "[e2e][login][async]") {
  AsyncEnv e;
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());
  const fs::path auth_json = e.codex_home() / "auth.json";
  auto body = [&]() -> asio::awaitable<void> {
    co_await codex.login_api_key("sk-mock-not-a-real-key");
    bool completed = false;
    while (!completed) {
      auto n = co_await codex.next_event(kEventWait);
      if (n.method == "account/login/completed") {
        completed = true;
        CHECK(n.params.at("success") == json::value(true));
      }
    }
    CHECK(fs::exists(auth_json));
    auto acc = co_await codex.account();
    CHECK_FALSE(acc.account.has_value());
    co_await codex.logout();
    CHECK_FALSE(fs::exists(auth_json));
    co_await codex.close();
  };
  run_async(e.ioc, body());
}

TEST_CASE("login: ChatGPT browser login can be cancelled, wait() then reports the failure",
          "[e2e][login][chatgpt]") {
  Env e;
  codex::Codex codex(e.config());
  auto login = codex.login_chatgpt();
  CHECK(!login.login_id().empty());
  CHECK(login.auth_url().find("redirect_uri=http") != std::string::npos);

  auto cancelled = login.cancel();
  CHECK(cancelled.status == codex::CancelLoginStatus::canceled);
  auto done = login.wait(kEventWait);
  CHECK_FALSE(done.success);
  REQUIRE(done.error.has_value());
  CHECK(!done.error->empty());
  CHECK(done.login_id == std::optional<std::string>(login.login_id()));

  CHECK(login.cancel().status == codex::CancelLoginStatus::not_found);
}

TEST_CASE("login: async ChatGPT browser login cancel and wait", "[e2e][login][chatgpt][async]") {
  AsyncEnv e;
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());
  auto body = [&]() -> asio::awaitable<void> {
    auto login = co_await codex.login_chatgpt();
    CHECK(login.auth_url().find("redirect_uri=http") != std::string::npos);
    auto cancelled = co_await login.cancel();
    CHECK(cancelled.status == codex::CancelLoginStatus::canceled);
    auto done = co_await login.wait(kEventWait);
    CHECK_FALSE(done.success);
    CHECK(done.error.has_value());
    co_await codex.close();
  };
  run_async(e.ioc, body());
}
