// Wire parity: every public method sends exactly the params of the Python SDK's mapping
// (python-sdk-behavior.md §2), checked against the lines the fake app-server logged.

#include "fake_fixture.hpp"

#include <optional>
#include <stdexcept>
#include <type_traits>

namespace {

using namespace itest;
using codex::ApprovalMode;
using codex::Sandbox;

/// Awaits `aw` and returns the exception of type E it threw (nullopt when it did not throw).
template <class E, class T>
asio::awaitable<std::optional<E>> thrown(asio::awaitable<T> aw) {
  std::optional<E> out;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(aw);
    } else {
      (void)co_await std::move(aw);
    }
  } catch (const E& e) {
    out.emplace(e);
  }
  co_return out;
}

/// The first key of a JSON object ("" when empty).
std::string first_key(const json::object& o) {
  return o.empty() ? std::string() : std::string(o.begin()->key());
}

}  // namespace

TEST_CASE("initialize sends clientInfo and capabilities, then the initialized notification",
          "[wire]") {
  Watchdog wd;
  Fake fake;
  auto cfg = fake.config();
  cfg.client_name = "itest_client";
  cfg.client_title = "ITest Title";
  cfg.client_version = "9.8.7";
  cfg.experimental_api = false;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  run_async(ioc, [&]() -> asio::awaitable<void> {
    co_await client.start();
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);
    co_await client.close();
  }());

  auto lines = fake.lines();
  REQUIRE(lines.size() >= 3);
  CHECK(Fake::is_method(lines[0], "initialize"));
  CHECK(lines[0].contains("id"));
  CHECK(!lines[0].contains("jsonrpc"));
  CHECK(lines[0].at("params") == J(R"({"clientInfo":{"name":"itest_client","title":"ITest Title",
      "version":"9.8.7"},"capabilities":{"experimentalApi":false}})"));
  // The notification: a method and nothing else (no id, no params key).
  CHECK(lines[1] == O(R"({"method":"initialized"})"));
  CHECK(Fake::is_method(lines[2], "model/list"));

  const auto& md = client.metadata();
  CHECK(md.user_agent.rfind("itest_client/0.169.0", 0) == 0);
  CHECK(md.server_name == "codex");
  CHECK(md.server_version == "0.169.0");
  CHECK(md.codex_home == fake.dir());
  CHECK(md.platform_family == "unix");
  CHECK(md.platform_os == "linux");
}

TEST_CASE("initialize uses the documented defaults", "[wire]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  run_async(ioc, [&]() -> asio::awaitable<void> {
    co_await client.start();
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);
    co_await client.close();
  }());
  auto init = fake.params_of("initialize");
  json::object expected = O(R"({"clientInfo":{"name":"codex_cpp_sdk","title":"Codex C++ SDK"},
      "capabilities":{"experimentalApi":true}})");
  expected["clientInfo"].as_object()["version"] = codex::version_string;
  CHECK(init == expected);
}

TEST_CASE("thread_start sends the approval mode mapping and nothing else", "[wire]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::string first_id;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions def;  // auto_review by default
    auto t = co_await client.thread_start(def);
    first_id = t.id();
    for (auto m : {ApprovalMode::auto_review, ApprovalMode::deny_all, ApprovalMode::ask_client,
                   ApprovalMode::ask_client_untrusted, ApprovalMode::server_default}) {
      codex::ThreadStartOptions o;
      o.approval_mode = m;
      (void)co_await client.thread_start(o);
    }
    codex::ThreadStartOptions none;
    none.approval_mode = std::nullopt;
    (void)co_await client.thread_start(none);
    co_await client.close();
  }());
  CHECK(first_id == "thr_1");

  auto rs = fake.requests("thread/start");
  REQUIRE(rs.size() == 7);
  CHECK(rs[0].at("params") ==
        J(R"({"approvalPolicy":"on-request","approvalsReviewer":"auto_review"})"));
  CHECK(rs[1].at("params") ==
        J(R"({"approvalPolicy":"on-request","approvalsReviewer":"auto_review"})"));
  CHECK(rs[2].at("params") == J(R"({"approvalPolicy":"never"})"));
  CHECK(rs[3].at("params") == J(R"({"approvalPolicy":"on-request","approvalsReviewer":"user"})"));
  CHECK(rs[4].at("params") == J(R"({"approvalPolicy":"untrusted","approvalsReviewer":"user"})"));
  CHECK(rs[5].at("params") == J(R"({})"));
  CHECK(rs[6].at("params") == J(R"({})"));
}

TEST_CASE("thread_start sends every option under its camelCase name", "[wire]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  codex::AsyncThread thread;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions o;
    o.approval_mode = ApprovalMode::deny_all;
    o.base_instructions = "base";
    o.config = O(R"({"model_reasoning_effort":"high","nested":{"a":[1,2]}})");
    o.cwd = "/work/proj";
    o.developer_instructions = "dev";
    o.ephemeral = true;
    o.model = "gpt-test";
    o.model_provider = "openai";
    o.personality = "pragmatic";
    o.sandbox = Sandbox::workspace_write;
    o.service_name = "svc";
    o.service_tier = "flex";
    o.session_start_source = "startup";
    o.thread_source = "user";
    thread = co_await client.thread_start(o);

    codex::ThreadStartOptions ro;
    ro.approval_mode = ApprovalMode::server_default;
    ro.sandbox = Sandbox::read_only;
    (void)co_await client.thread_start(ro);
    codex::ThreadStartOptions fo;
    fo.approval_mode = ApprovalMode::server_default;
    fo.sandbox = Sandbox::full_access;
    (void)co_await client.thread_start(fo);
    co_await client.close();
  }());

  auto rs = fake.requests("thread/start");
  REQUIRE(rs.size() == 3);
  CHECK(rs[0].at("params") == J(R"({"approvalPolicy":"never","baseInstructions":"base",
      "config":{"model_reasoning_effort":"high","nested":{"a":[1,2]}},"cwd":"/work/proj",
      "developerInstructions":"dev","ephemeral":true,"model":"gpt-test","modelProvider":"openai",
      "personality":"pragmatic","sandbox":"workspace-write","serviceName":"svc",
      "serviceTier":"flex","sessionStartSource":"startup","threadSource":"user"})"));
  CHECK(rs[1].at("params") == J(R"({"sandbox":"read-only"})"));
  CHECK(rs[2].at("params") == J(R"({"sandbox":"danger-full-access"})"));
  // The handle keeps the thread id and the whole response.
  CHECK(thread.id() == "thr_1");
  REQUIRE(thread.response().contains("thread"));
  CHECK(thread.response().at("model") == "gpt-test");
}

TEST_CASE("thread_resume and thread_fork send threadId first and map include_turns inverted",
          "[wire]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::string resumed_id, forked_id;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadResumeOptions r0;
    auto r = co_await client.thread_resume("thr_9", r0);
    resumed_id = r.id();
    codex::ThreadResumeOptions r1;
    r1.include_turns = true;
    (void)co_await client.thread_resume("thr_9", r1);
    codex::ThreadResumeOptions r2;
    r2.include_turns = false;
    (void)co_await client.thread_resume("thr_9", r2);
    codex::ThreadResumeOptions ra;
    ra.approval_mode = ApprovalMode::ask_client;
    ra.base_instructions = "b";
    ra.config = O(R"({"k":"v"})");
    ra.cwd = "/c";
    ra.developer_instructions = "d";
    ra.include_turns = true;
    ra.model = "m";
    ra.model_provider = "p";
    ra.personality = "friendly";
    ra.sandbox = Sandbox::read_only;
    ra.service_tier = "fast";
    (void)co_await client.thread_resume("thr_9", ra);

    codex::ThreadForkOptions f0;
    auto f = co_await client.thread_fork("thr_9", f0);
    forked_id = f.id();
    codex::ThreadForkOptions fa;
    fa.approval_mode = ApprovalMode::ask_client_untrusted;
    fa.base_instructions = "b";
    fa.config = O(R"({"k":1})");
    fa.cwd = "/c";
    fa.developer_instructions = "d";
    fa.ephemeral = false;
    fa.include_turns = false;
    fa.model = "m";
    fa.model_provider = "p";
    fa.sandbox = Sandbox::full_access;
    fa.service_tier = "flex";
    fa.thread_source = "subagent";
    (void)co_await client.thread_fork("thr_9", fa);
    co_await client.close();
  }());
  CHECK(resumed_id == "thr_9");
  CHECK(forked_id.rfind("thr_fork_", 0) == 0);

  auto rs = fake.requests("thread/resume");
  REQUIRE(rs.size() == 4);
  CHECK(rs[0].at("params") == J(R"({"threadId":"thr_9"})"));
  CHECK(rs[1].at("params") == J(R"({"threadId":"thr_9","excludeTurns":false})"));
  CHECK(rs[2].at("params") == J(R"({"threadId":"thr_9","excludeTurns":true})"));
  CHECK(rs[3].at("params") == J(R"({"threadId":"thr_9","approvalPolicy":"on-request",
      "approvalsReviewer":"user","baseInstructions":"b","config":{"k":"v"},"cwd":"/c",
      "developerInstructions":"d","excludeTurns":false,"model":"m","modelProvider":"p",
      "personality":"friendly","sandbox":"read-only","serviceTier":"fast"})"));
  for (auto& r : rs)
    CHECK(first_key(r.at("params").as_object()) == "threadId");

  auto forks = fake.requests("thread/fork");
  REQUIRE(forks.size() == 2);
  CHECK(forks[0].at("params") == J(R"({"threadId":"thr_9"})"));
  CHECK(forks[1].at("params") == J(R"({"threadId":"thr_9","approvalPolicy":"untrusted",
      "approvalsReviewer":"user","baseInstructions":"b","config":{"k":1},"cwd":"/c",
      "developerInstructions":"d","ephemeral":false,"excludeTurns":true,"model":"m",
      "modelProvider":"p","sandbox":"danger-full-access","serviceTier":"flex",
      "threadSource":"subagent"})"));
  for (auto& r : forks)
    CHECK(first_key(r.at("params").as_object()) == "threadId");
}

TEST_CASE("thread_list sends {} without options and every option when set", "[wire]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  json::object page;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    (void)co_await client.thread_start(so);
    codex::ThreadListOptions none;
    page = co_await client.thread_list(none);
    codex::ThreadListOptions all;
    all.archived = true;
    all.cursor = "c1";
    all.cwd = std::vector<std::string>{"/a", "/b"};
    all.limit = 5;
    all.model_providers = std::vector<std::string>{"openai"};
    all.search_term = "needle";
    all.sort_direction = "asc";
    all.sort_key = "created_at";
    all.source_kinds = std::vector<std::string>{"cli", "vscode"};
    all.use_state_db_only = true;
    (void)co_await client.thread_list(all);
    co_await client.close();
  }());
  auto rs = fake.requests("thread/list");
  REQUIRE(rs.size() == 2);
  REQUIRE(rs[0].contains("params"));  // an empty model is `"params": {}`, not a missing key
  CHECK(rs[0].at("params") == J("{}"));
  CHECK(rs[1].at("params") == J(R"({"archived":true,"cursor":"c1","cwd":["/a","/b"],"limit":5,
      "modelProviders":["openai"],"searchTerm":"needle","sortDirection":"asc",
      "sortKey":"created_at","sourceKinds":["cli","vscode"],"useStateDbOnly":true})"));
  // The result is passed through: the fake lists the thread it started.
  REQUIRE(page.contains("data"));
  REQUIRE(page.at("data").as_array().size() == 1);
  CHECK(page.at("data").as_array()[0].at("id") == "thr_1");
}

TEST_CASE("thread read, set_name, compact, archive and unarchive params", "[wire]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::string unarchived_id;
  json::object read_res;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::ReadOptions r0;
    read_res = co_await t.read(r0);
    codex::ReadOptions r1;
    r1.include_turns = true;
    (void)co_await t.read(r1);
    (void)co_await t.set_name("my name");
    (void)co_await t.compact();
    (void)co_await client.thread_archive(t.id());
    auto u = co_await client.thread_unarchive(t.id());
    unarchived_id = u.id();
    co_await client.close();
  }());
  auto reads = fake.requests("thread/read");
  REQUIRE(reads.size() == 2);
  CHECK(reads[0].at("params") == J(R"({"threadId":"thr_1","includeTurns":false})"));
  CHECK(reads[1].at("params") == J(R"({"threadId":"thr_1","includeTurns":true})"));
  CHECK(read_res.at("thread").at("id") == "thr_1");
  CHECK(fake.params_of("thread/name/set") == O(R"({"threadId":"thr_1","name":"my name"})"));
  CHECK(fake.params_of("thread/compact/start") == O(R"({"threadId":"thr_1"})"));
  CHECK(fake.params_of("thread/archive") == O(R"({"threadId":"thr_1"})"));
  CHECK(fake.params_of("thread/unarchive") == O(R"({"threadId":"thr_1"})"));
  CHECK(unarchived_id == "thr_1");
}

TEST_CASE("models, account, logout and login params", "[wire]") {
  Watchdog wd;
  // Call 3 of account/login/start is the device-code flow (the fake's default answers only the
  // browser flow's shape).
  Fake fake(R"({"on":{"account/login/start":[
      [{"default":true}],
      [{"default":true}],
      [{"respond":{"type":"chatgptDeviceCode","loginId":"dev-1",
                   "verificationUrl":"https://verify.example/device","userCode":"ABCD-1234"}}]]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  json::object models_page;
  codex::AccountInfo acct;
  std::string login_id, auth_url, dev_login, dev_url, dev_code;
  codex::CancelLoginResponse cancelled;
  codex::LoginCompleted completed;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ModelsOptions m0;
    models_page = co_await client.models(m0);
    codex::ModelsOptions m1;
    m1.include_hidden = true;
    m1.cursor = "1";
    m1.limit = 1;
    (void)co_await client.models(m1);
    codex::AccountOptions a0;
    acct = co_await client.account(a0);
    codex::AccountOptions a1;
    a1.refresh_token = true;
    (void)co_await client.account(a1);
    co_await client.logout();
    co_await client.login_api_key("sk-test-123");
    auto chat = co_await client.login_chatgpt();
    login_id = chat.login_id();
    auth_url = chat.auth_url();
    cancelled = co_await chat.cancel();
    completed = co_await chat.wait(ms(5000));
    auto dev = co_await client.login_chatgpt_device_code();
    dev_login = dev.login_id();
    dev_url = dev.verification_url();
    dev_code = dev.user_code();
    co_await client.close();
  }());

  auto ms_ = fake.requests("model/list");
  REQUIRE(ms_.size() == 2);
  CHECK(ms_[0].at("params") == J(R"({"includeHidden":false})"));
  CHECK(ms_[1].at("params") == J(R"({"includeHidden":true,"cursor":"1","limit":1})"));
  REQUIRE(models_page.contains("data"));
  CHECK(models_page.at("data").as_array().size() == 2);

  auto as = fake.requests("account/read");
  REQUIRE(as.size() == 2);
  CHECK(as[0].at("params") == J(R"({"refreshToken":false})"));
  CHECK(as[1].at("params") == J(R"({"refreshToken":true})"));
  CHECK(!acct.account);
  CHECK(!acct.requires_openai_auth);

  auto lo = fake.requests("account/logout");
  REQUIRE(lo.size() == 1);
  CHECK(!lo[0].contains("params"));

  auto ls = fake.requests("account/login/start");
  REQUIRE(ls.size() == 3);
  CHECK(ls[0].at("params") == J(R"({"type":"apiKey","apiKey":"sk-test-123"})"));
  CHECK(ls[1].at("params") == J(R"({"type":"chatgpt"})"));
  CHECK(ls[2].at("params") == J(R"({"type":"chatgptDeviceCode"})"));

  CHECK(login_id == "login_2");
  CHECK(auth_url == "https://auth.example.invalid/oauth/authorize");
  CHECK(fake.params_of("account/login/cancel") == O(R"({"loginId":"login_2"})"));
  CHECK(cancelled.status == codex::CancelLoginStatus::canceled);
  // cancel() then wait(): the server's completion (success=false) reaches the handle.
  CHECK(completed.login_id == "login_2");
  CHECK(!completed.success);
  CHECK(completed.error.has_value());

  CHECK(dev_login == "dev-1");
  CHECK(dev_url == "https://verify.example/device");
  CHECK(dev_code == "ABCD-1234");
}

TEST_CASE("turn/start sends every input item type and every TurnOptions field", "[wire]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);

    codex::TurnOptions none;
    (void)co_await t.run("plain string", none);

    codex::Input items{codex::TextInput{"text item"},
                       codex::ImageInput{"data:image/png;base64,iVBORw0KGgo="},
                       codex::LocalImageInput{"/tmp/pic.png"},
                       codex::SkillInput{"my-skill", "/skills/my-skill/SKILL.md"},
                       codex::MentionInput{"github", "app://github"}};
    (void)co_await t.run(items, none);

    codex::Input one(codex::LocalImageInput{"/tmp/one.png"});
    (void)co_await t.run(one, none);

    codex::TurnOptions all;
    all.approval_mode = ApprovalMode::ask_client;
    all.cwd = "/work/proj";
    all.effort = "high";
    all.model = "gpt-test";
    all.output_schema = O(R"({"type":"object","properties":{"a":{"type":"string"}}})");
    all.personality = "pragmatic";
    all.sandbox = Sandbox::workspace_write;
    all.service_tier = "flex";
    all.summary = "concise";
    all.turn_service_tier = "priority";
    (void)co_await t.run("all options", all);

    codex::TurnOptions ro;
    ro.sandbox = Sandbox::read_only;
    ro.approval_mode = ApprovalMode::deny_all;
    (void)co_await t.run("ro", ro);
    codex::TurnOptions fa;
    fa.sandbox = Sandbox::full_access;
    fa.approval_mode = ApprovalMode::auto_review;
    (void)co_await t.run("fa", fa);
    co_await client.close();
  }());

  auto rs = fake.requests("turn/start");
  REQUIRE(rs.size() == 6);
  CHECK(rs[0].at("params") ==
        J(R"({"threadId":"thr_1","input":[{"type":"text","text":"plain string"}]})"));
  CHECK(rs[1].at("params") == J(R"({"threadId":"thr_1","input":[
      {"type":"text","text":"text item"},
      {"type":"image","url":"data:image/png;base64,iVBORw0KGgo="},
      {"type":"localImage","path":"/tmp/pic.png"},
      {"type":"skill","name":"my-skill","path":"/skills/my-skill/SKILL.md"},
      {"type":"mention","name":"github","path":"app://github"}]})"));
  CHECK(rs[2].at("params") ==
        J(R"({"threadId":"thr_1","input":[{"type":"localImage","path":"/tmp/one.png"}]})"));
  CHECK(rs[3].at("params") == J(R"({"threadId":"thr_1",
      "input":[{"type":"text","text":"all options"}],
      "approvalPolicy":"on-request","approvalsReviewer":"user","cwd":"/work/proj",
      "effort":"high","model":"gpt-test",
      "outputSchema":{"type":"object","properties":{"a":{"type":"string"}}},
      "personality":"pragmatic",
      "sandboxPolicy":{"type":"workspaceWrite","writableRoots":[],"networkAccess":false,
                       "excludeTmpdirEnvVar":false,"excludeSlashTmp":false},
      "serviceTier":"flex","summary":"concise","serviceTierForTurn":"priority"})"));
  CHECK(rs[4].at("params") == J(R"({"threadId":"thr_1","input":[{"type":"text","text":"ro"}],
      "approvalPolicy":"never","sandboxPolicy":{"type":"readOnly","networkAccess":false}})"));
  CHECK(rs[5].at("params") == J(R"({"threadId":"thr_1","input":[{"type":"text","text":"fa"}],
      "approvalPolicy":"on-request","approvalsReviewer":"auto_review",
      "sandboxPolicy":{"type":"dangerFullAccess"}})"));
  for (auto& r : rs)
    CHECK(!r.at("params").as_object().contains("goal"));
}

TEST_CASE("steer sends expectedTurnId, interrupt sends turnId, and an interrupted turn returns",
          "[wire]") {
  Watchdog wd;
  // The turn is left running so that steer and interrupt have something to act on.
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},
      {"turn":{"deltas":["slow "],"complete":false}}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  json::object steer_res;
  codex::TurnResult result;
  std::string turn_id;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("start", to);
    turn_id = h.id();
    codex::Input more{codex::TextInput{"more"}, codex::ImageInput{"data:image/png;base64,AA=="}};
    steer_res = co_await h.steer(more);
    (void)co_await h.interrupt();
    result = co_await h.run();  // interrupted: returns normally
    co_await client.close();
  }());
  CHECK(turn_id == "turn_1");
  CHECK(fake.params_of("turn/steer") == O(R"({"threadId":"thr_1","expectedTurnId":"turn_1",
      "input":[{"type":"text","text":"more"},{"type":"image","url":"data:image/png;base64,AA=="}]})"));
  CHECK(steer_res.at("turnId") == "turn_1");
  CHECK(fake.params_of("turn/interrupt") == O(R"({"threadId":"thr_1","turnId":"turn_1"})"));
  CHECK(result.id == "turn_1");
  CHECK(result.status == codex::TurnStatus::interrupted);
  CHECK(!result.error);
}

TEST_CASE("request() sends any method with the given params and returns the raw result", "[wire]") {
  Watchdog wd;
  Fake fake(R"({"on":{"custom/echo":[{"respond":{"got":"$params","n":"$n"}}],
                      "custom/none":[{"respond":{"hadParams":"$params"}}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  json::value echoed, none;
  std::optional<codex::InvalidRequestError> unknown;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    json::value p = J(R"({"a":1,"b":[true,null,"x"],"c":{"d":"é"}})");
    echoed = co_await client.request("custom/echo", p);
    none = co_await client.request("custom/none");
    unknown = co_await thrown<codex::InvalidRequestError>(client.request("no/such/method"));
    co_await client.close();
  }());
  CHECK(fake.params_of("custom/echo") == O(R"({"a":1,"b":[true,null,"x"],"c":{"d":"é"}})"));
  CHECK(echoed == J(R"({"got":{"a":1,"b":[true,null,"x"],"c":{"d":"é"}},"n":1})"));
  auto nr = fake.requests("custom/none");
  REQUIRE(nr.size() == 1);
  CHECK(!nr[0].contains("params"));  // null params: no params key
  CHECK(none == J(R"({"hadParams":null})"));
  REQUIRE(unknown);
  CHECK(unknown->code() == -32600);
  CHECK(unknown->method() == "no/such/method");
}

TEST_CASE("bad input throws std::invalid_argument before anything is sent", "[wire]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},
      {"turn":{"deltas":["x"],"complete":false}}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  int thrown_count = 0;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("ok", to);  // a running turn, for steer
    auto expect_invalid = [&](std::optional<std::invalid_argument> e) {
      if (e) ++thrown_count;
    };
    // (Temporaries are hoisted out of the co_await expressions: GCC 12 mishandles them.)
    std::vector<codex::InputItem> empty_items;
    codex::Input empty(empty_items);
    codex::Input empty_url(codex::ImageInput{""});
    codex::Input no_skill_name(codex::SkillInput{"", "/p"});
    expect_invalid(co_await thrown<std::invalid_argument>(t.turn(empty, to)));
    expect_invalid(co_await thrown<std::invalid_argument>(t.run(empty, to)));
    expect_invalid(co_await thrown<std::invalid_argument>(t.turn(empty_url, to)));
    expect_invalid(co_await thrown<std::invalid_argument>(t.turn(no_skill_name, to)));
    expect_invalid(co_await thrown<std::invalid_argument>(h.steer(empty)));
    codex::ThreadResumeOptions ro;
    expect_invalid(co_await thrown<std::invalid_argument>(client.thread_resume("", ro)));
    codex::ThreadForkOptions fo;
    expect_invalid(co_await thrown<std::invalid_argument>(client.thread_fork("", fo)));
    expect_invalid(co_await thrown<std::invalid_argument>(client.thread_archive("")));
    expect_invalid(co_await thrown<std::invalid_argument>(client.thread_unarchive("")));
    expect_invalid(co_await thrown<std::invalid_argument>(client.login_api_key("")));
    expect_invalid(co_await thrown<std::invalid_argument>(client.request("")));
    // The connection is fine, and this round trip makes every earlier line reach the log.
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);
    co_await client.close();
  }());
  CHECK(thrown_count == 11);
  CHECK(fake.requests("turn/start").size() == 1);  // only the valid one
  CHECK(fake.requests("turn/steer").empty());
  CHECK(fake.requests("thread/resume").empty());
  CHECK(fake.requests("thread/fork").empty());
  CHECK(fake.requests("thread/archive").empty());
  CHECK(fake.requests("thread/unarchive").empty());
  CHECK(fake.requests("account/login/start").empty());
  CHECK(fake.requests("model/list").size() == 1);
}

TEST_CASE("sync Codex sends the same params and runs, streams and interrupts", "[wire][sync]") {
  Watchdog wd;
  // Turn 1 completes normally; turn 2 is streamed; turn 3 is left running and interrupted.
  Fake fake(R"({"on":{"turn/start":[
      [{"default":true}],
      [{"default":"response"},{"turn":{"deltas":["a","b","c"]}}],
      [{"default":"response"},{"turn":{"deltas":["slow"],"complete":false}}]]}})");
  codex::Codex client(fake.config());
  CHECK(client.metadata().server_version == "0.169.0");

  auto thread = client.thread_start();
  CHECK(thread.id() == "thr_1");
  auto r = thread.run("hello");
  CHECK(r.status == codex::TurnStatus::completed);
  CHECK(r.final_response == std::optional<std::string>("Hello world"));
  CHECK(r.id == "turn_1");

  auto h = thread.turn("stream me");
  std::string text;
  std::vector<std::string> methods;
  for (const codex::Notification& ev : h.stream()) {
    methods.push_back(ev.method);
    CHECK(ev.turn_id() == "turn_2");
    if (ev.method == "item/agentMessage/delta") text += std::string(ev.delta());
  }
  CHECK(text == "abc");
  REQUIRE(!methods.empty());
  CHECK(methods.front() == "turn/started");
  CHECK(methods.back() == "turn/completed");

  auto h3 = thread.turn("interrupt me");
  auto ir = h3.interrupt();
  CHECK(ir.empty());
  auto r3 = h3.run();
  CHECK(r3.status == codex::TurnStatus::interrupted);

  client.close();
  CHECK(fake.params_of("thread/start") ==
        O(R"({"approvalPolicy":"on-request","approvalsReviewer":"auto_review"})"));
  auto ts = fake.requests("turn/start");
  REQUIRE(ts.size() == 3);
  CHECK(ts[0].at("params") ==
        J(R"({"threadId":"thr_1","input":[{"type":"text","text":"hello"}]})"));
  CHECK(fake.params_of("turn/interrupt") == O(R"({"threadId":"thr_1","turnId":"turn_3"})"));
  auto lines = fake.lines();
  REQUIRE(lines.size() >= 2);
  CHECK(Fake::is_method(lines[0], "initialize"));
  CHECK(lines[1] == O(R"({"method":"initialized"})"));
}
