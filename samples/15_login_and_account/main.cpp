// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 15 login_and_account — twin of the Python SDK's examples/15_login_and_account.
//
//   * API key: `login_api_key`, the `account/login/completed` and `account/updated` events (on
//     `next_event()`), `account()`, `logout()`; the key is stored in CODEX_HOME/auth.json and
//     removed again. Offline only: online it would replace your own login, so it is skipped.
//   * ChatGPT browser login: `login_chatgpt()` returns a handle (login id, auth URL); a real app
//     opens the URL and calls `wait()`. This sample cancels at once, then `wait()` reports the
//     failed login. The login server listens on 127.0.0.1:1455 (the smoke tests hold a lock).
//
//   15_login_and_account [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kFakeKey = "sk-sample-not-a-real-key";
constexpr std::chrono::seconds kWait{30};

std::string_view to_string(codex::CancelLoginStatus s) {
  switch (s) {
    case codex::CancelLoginStatus::canceled:
      return "canceled";
    case codex::CancelLoginStatus::not_found:
      return "notFound";
    default:
      return "unknown";
  }
}

void print_account(std::string_view label, const codex::AccountInfo& a) {
  std::cout << label << ": account " << (a.account ? json::serialize(*a.account) : "<none>")
            << ", requires_openai_auth " << (a.requires_openai_auth ? "true" : "false") << "\n";
}

/// `params.authMode` of an `account/updated` event ("" when null).
std::string auth_mode(const codex::Notification& n) {
  return samples::str(n.params, "authMode");
}

bool auth_json_exists(const codex::InitializeResponse& md) {
  return md.codex_home &&
         std::filesystem::exists(std::filesystem::path(*md.codex_home) / "auth.json");
}

struct ChatgptOutcome {
  std::string login_id, auth_url;
  codex::CancelLoginStatus cancel = codex::CancelLoginStatus::unknown;
  codex::LoginCompleted completed;
};

void report_chatgpt(const ChatgptOutcome& o, const codex::AccountInfo& account) {
  std::cout << "login.id: " << o.login_id << "\n"
            << "login.auth_url: " << samples::preview(o.auth_url, 70) << "\n"
            << "login.cancel.status: " << to_string(o.cancel) << "\n"
            << "login.completed.success: " << (o.completed.success ? "true" : "false") << " ("
            << o.completed.error.value_or("no error") << ")\n"
            << "account.requires_openai_auth: " << (account.requires_openai_auth ? "true" : "false")
            << "\n";
  samples::check(!o.login_id.empty() && o.auth_url.rfind("https://", 0) == 0,
                 "login_chatgpt returns a login id and an auth URL");
  samples::check(o.cancel == codex::CancelLoginStatus::canceled, "cancel() cancels the login");
  samples::check(!o.completed.success && o.completed.error.has_value(),
                 "wait() reports the cancelled login as failed");
}

// ---------------------------------------------------------------- sync

codex::Notification wait_for(codex::Codex& codex, std::string_view method) {
  for (;;) {
    codex::Notification n = codex.next_event(kWait);  // TimeoutError after kWait
    if (n.method == method) return n;
  }
}

int sync_main(samples::SampleEnv& env) {
  codex::Codex codex(env.config());
  print_account("account (start)", codex.account());

  if (env.online()) {
    std::cout << "api key login: skipped online (it would replace your own login)\n";
  } else {
    // snippet-begin: login_api_key_sync
    codex.login_api_key(kFakeKey);
    codex::Notification done = wait_for(codex, "account/login/completed");
    std::cout << "account/login/completed: success " << json::serialize(done.params.at("success"))
              << "\n";
    std::cout << "account/updated: authMode " << auth_mode(wait_for(codex, "account/updated"))
              << "\n";
    const bool stored = auth_json_exists(codex.metadata());
    print_account("account (api key)", codex.account());

    codex.logout();
    const std::string mode = auth_mode(wait_for(codex, "account/updated"));
    std::cout << "account/updated after logout: authMode " << (mode.empty() ? "null" : mode)
              << "\n";
    // snippet-end: login_api_key_sync
    samples::check(done.params.at("success") == json::value(true), "the API key login succeeded");
    samples::check(stored, "the key was stored in CODEX_HOME/auth.json");
    samples::check(mode.empty() && !auth_json_exists(codex.metadata()),
                   "logout() removed the credentials");
  }

  // snippet-begin: login_chatgpt_sync
  ChatgptOutcome o;
  codex::ChatgptLoginHandle login = codex.login_chatgpt();
  o.login_id = login.login_id();
  o.auth_url = login.auth_url();  // a real app opens this in a browser, then waits
  o.cancel = login.cancel().status;
  o.completed = login.wait(kWait);
  // snippet-end: login_chatgpt_sync
  report_chatgpt(o, codex.account());
  return 0;
}

// ---------------------------------------------------------------- async

boost::asio::awaitable<codex::Notification> wait_for(codex::AsyncCodex& codex, std::string method) {
  for (;;) {
    codex::Notification n = co_await codex.next_event(kWait);
    if (n.method == method) co_return n;
  }
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  co_await codex.start();
  codex::AccountInfo start = co_await codex.account();
  print_account("account (start)", start);

  if (env.online()) {
    std::cout << "api key login: skipped online (it would replace your own login)\n";
  } else {
    // snippet-begin: login_api_key_async
    co_await codex.login_api_key(kFakeKey);
    codex::Notification done = co_await wait_for(codex, "account/login/completed");
    std::cout << "account/login/completed: success " << json::serialize(done.params.at("success"))
              << "\n";
    codex::Notification updated = co_await wait_for(codex, "account/updated");
    std::cout << "account/updated: authMode " << auth_mode(updated) << "\n";
    const bool stored = auth_json_exists(codex.metadata());
    codex::AccountInfo with_key = co_await codex.account();
    print_account("account (api key)", with_key);

    co_await codex.logout();
    codex::Notification logged_out = co_await wait_for(codex, "account/updated");
    const std::string mode = auth_mode(logged_out);
    std::cout << "account/updated after logout: authMode " << (mode.empty() ? "null" : mode)
              << "\n";
    // snippet-end: login_api_key_async
    samples::check(done.params.at("success") == json::value(true), "the API key login succeeded");
    samples::check(stored, "the key was stored in CODEX_HOME/auth.json");
    samples::check(mode.empty() && !auth_json_exists(codex.metadata()),
                   "logout() removed the credentials");
  }

  // snippet-begin: login_chatgpt_async
  ChatgptOutcome o;
  codex::AsyncChatgptLoginHandle login = co_await codex.login_chatgpt();
  o.login_id = login.login_id();
  o.auth_url = login.auth_url();
  codex::CancelLoginResponse cancelled = co_await login.cancel();
  o.cancel = cancelled.status;
  o.completed = co_await login.wait(kWait);
  // snippet-end: login_chatgpt_async
  codex::AccountInfo account = co_await codex.account();
  report_chatgpt(o, account);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "15_login_and_account", sync_main, async_main);
}
