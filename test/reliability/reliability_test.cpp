// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// Faults the real app-server produces: overload under a burst of concurrent requests, and the
// death of the parent process. Every wait is bounded; nothing sleeps to synchronize.
#include "e2e_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <poll.h>
#include <sys/wait.h>

#include <atomic>

using namespace e2e;

namespace {

/// Pids of any process whose environment has `CODEX_HOME=<home>` (whatever its parent).
std::vector<pid_t> pids_with_home(const fs::path& codex_home) {
  const std::string needle = "CODEX_HOME=" + codex_home.string();
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string env = read_proc_file(entry.path() / "environ");
    if (env.find(needle + '\0') != std::string::npos || env.ends_with(needle))
      out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

bool dead(pid_t pid) {
  auto s = process_state(pid);
  return s == "gone" || s == "zombie";
}

}  // namespace

TEST_CASE("1000 concurrent requests against the real app-server all end", "[reliability]") {
  AsyncEnv env;
  codex::AsyncCodex client(env.ioc.get_executor(), env.config());
  constexpr int kRequests = 1000;
  int results = 0, busy = 0, timeouts = 0, other = 0, retried_ok = 0;
  run_async(
      env.ioc,
      [&]() -> asio::awaitable<void> {
        co_await client.start();
        auto ex = co_await asio::this_coro::executor;
        auto finished = std::make_shared<int>(0);
        asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
        for (int i = 0; i < kRequests; ++i) {
          auto one = [&, finished]() -> asio::awaitable<void> {
            try {
              codex::CallOptions opts{.timeout = 5s};
              (void)co_await client.request("thread/loaded/list", json::object{}, opts);
              ++results;
            } catch (const codex::ServerBusyError& e) {
              CHECK(codex::is_retryable_error(e));
              CHECK(e.code() == -32001);
              ++busy;
            } catch (const codex::TimeoutError&) {
              ++timeouts;
            } catch (...) {
              ++other;
            }
            if (++*finished == kRequests) all_done.cancel();
          };
          asio::co_spawn(ex, one(), asio::detached);
        }
        auto [ec] = co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
        // The connection is still usable, and retry_on_overload turns overload into results.
        for (int i = 0; i < 20; ++i) {
          auto op = [&]() -> asio::awaitable<json::value> {
            codex::CallOptions opts{.timeout = 5s};
            co_return co_await client.request("thread/loaded/list", json::object{}, opts);
          };
          codex::RetryOptions ro{.max_attempts = 5, .initial_delay = 50ms, .max_delay = 400ms};
          auto v = co_await codex::async_retry_on_overload(op, ro);
          if (v.is_object() && v.as_object().contains("data")) ++retried_ok;
        }
        co_await client.close();
      }(),
      120s);
  INFO("results=" << results << " busy=" << busy << " timeouts=" << timeouts << " other=" << other);
  CHECK(results + busy + timeouts + other == kRequests);
  CHECK(other == 0);
  CHECK(results > 0);
  CHECK(retried_ok == 20);
}

// The "parent program" of the SIGKILL test runs in a fresh process image (fork + exec of this
// test binary): fork without exec in a multithreaded process (the model server has a thread) can
// deadlock in the child, and does under ASan. Its config comes through the environment.
namespace {
int run_child_if_asked() {
  const char* cfg_json = std::getenv("CODEX_RELIABILITY_CHILD");
  if (!cfg_json) return 0;
  const char* fd_text = std::getenv("CODEX_RELIABILITY_READY_FD");
  const int fd = fd_text ? std::atoi(fd_text) : -1;
  try {
    auto j = json::parse(cfg_json).as_object();
    codex::CodexConfig cfg;
    cfg.codex_bin = std::string(j.at("bin").as_string());
    for (auto& o : j.at("overrides").as_array())
      cfg.config_overrides.emplace_back(o.as_string());
    for (auto& [k, v] : j.at("env").as_object())
      cfg.env[std::string(k)] = std::string(v.as_string());
    cfg.cwd = std::string(j.at("cwd").as_string());
    codex::Codex codex(cfg);
    char ok = 'y';
    (void)!::write(fd, &ok, 1);
    for (;;)
      ::pause();
  } catch (...) {
    char no = 'n';
    (void)!::write(fd, &no, 1);
  }
  ::_exit(3);
}
const int child_mode = run_child_if_asked();
}  // namespace

TEST_CASE("a parent killed with SIGKILL takes its app-server child with it", "[reliability]") {
  (void)child_mode;
  Env env;
  const auto cfg = env.config();
  json::object j;
  j["bin"] = *cfg.codex_bin;
  json::array overrides;
  for (auto& o : cfg.config_overrides)
    overrides.emplace_back(o);
  j["overrides"] = std::move(overrides);
  json::object envs;
  for (auto& [k, v] : cfg.env)
    envs[k] = v;
  j["env"] = std::move(envs);
  j["cwd"] = *cfg.cwd;
  const std::string cfg_json = json::serialize(j);

  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    ::setenv("CODEX_RELIABILITY_CHILD", cfg_json.c_str(), 1);
    ::setenv("CODEX_RELIABILITY_READY_FD", std::to_string(ready[1]).c_str(), 1);
    ::execl("/proc/self/exe", "/proc/self/exe", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(ready[1]);
  pollfd pfd{ready[0], POLLIN, 0};
  REQUIRE(::poll(&pfd, 1, 60000) == 1);  // the child starts its client within a minute
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  REQUIRE(c == 'y');
  auto servers = pids_with_home(env.codex_home());
  std::erase(servers, child);
  REQUIRE(servers.size() == 1);
  const pid_t server = servers.front();
  CHECK_FALSE(dead(server));

  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  // PR_SET_PDEATHSIG: the kernel kills the app-server when its parent dies. Poll its state with
  // a deadline (nothing here can wake us when another process's child exits).
  auto deadline = steady::now() + 10s;
  while (!dead(server) && steady::now() < deadline)
    std::this_thread::yield();
  INFO("app-server " << server << " state: " << process_state(server));
  CHECK(dead(server));
}
