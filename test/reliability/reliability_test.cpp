// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// Faults the real app-server produces: overload under a burst of concurrent requests, and the
// death of the parent process. Every wait is bounded; nothing sleeps to synchronize.
#include "e2e_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

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

TEST_CASE("a parent killed with SIGKILL takes its app-server child with it", "[reliability]") {
  Env env;
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const auto cfg = env.config();
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The "parent program": starts a client, says so, and waits to be killed.
    ::close(ready[0]);
    try {
      codex::Codex codex(cfg);
      char ok = 'y';
      (void)!::write(ready[1], &ok, 1);
      for (;;)
        ::pause();
    } catch (...) {
      char no = 'n';
      (void)!::write(ready[1], &no, 1);
      ::_exit(3);
    }
  }
  ::close(ready[1]);
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
