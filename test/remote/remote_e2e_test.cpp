// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Remote transports end to end: the test starts the REAL pinned `codex app-server` as a listening
// daemon (`--listen ws://127.0.0.1:PORT` with a capability token, or `--listen unix://PATH`),
// offline against the scripted model server, and drives it with `AsyncCodex` via
// `CodexConfig::endpoint`.
//
// Every test is bounded (a watchdog, `run_async` deadlines, deadline-bounded readiness polls) and
// kills and reaps every process it starts. Nothing sleeps to synchronize.
#ifndef CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#endif
#include <catch2/catch.hpp>

#include <codex/codex.hpp>
#include <codex/transport.hpp>

#include "e2e_fixture.hpp"
#include "mock_model_server.hpp"
#include "real_codex.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using codex::testing::MockModelServer;
using codex::testing::Response;
using steady = std::chrono::steady_clock;

constexpr const char* kToken = "cap-token-4f1d9a7e0b2c";

// The watchdog and the bounded coroutine runner are the e2e suite's (test/e2e/e2e_fixture.hpp).
using e2e::run_async;
using e2e::Watchdog;

// ---------------------------------------------------------------- the daemon

/// A port that was free a moment ago (bind 127.0.0.1:0, read it back, close). Plain POSIX: this
/// file keeps Asio socket templates out.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/getsockname failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// `codex app-server --listen <listen> [extra...]` as a child with the RealCodexEnv environment.
/// The destructor (or `kill_now`) SIGKILLs and reaps it.
class Daemon {
 public:
  Daemon(const codex::testing::RealCodexEnv& env, const std::string& listen,
         const std::vector<std::string>& extra) {
    codex::CodexConfig cfg = env.config();
    std::vector<std::string> argv{*cfg.codex_bin};
    for (auto& kv : cfg.config_overrides) {
      argv.emplace_back("--config");
      argv.push_back(kv);
    }
    argv.emplace_back("app-server");
    argv.emplace_back("--listen");
    argv.push_back(listen);
    for (auto& x : extra)
      argv.push_back(x);

    std::map<std::string, std::string> envm;
    for (char** e = environ; e && *e; ++e) {
      std::string kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) continue;
      envm.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    for (auto& k : cfg.env_remove)
      envm.erase(k);
    for (auto& [k, v] : cfg.env)
      envm[k] = v;
    std::vector<std::string> envs;
    for (auto& [k, v] : envm)
      envs.push_back(k + "=" + v);

    log_ = env.root() / ("daemon-" + std::to_string(::getpid()) + "-" +
                         std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".log");
    std::vector<char*> cargv, cenv;
    for (auto& a : argv)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& a : envs)
      cenv.push_back(a.data());
    cenv.push_back(nullptr);
    const std::string cwd = env.workspace().string();
    const std::string log = log_.string();

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int devnull = ::open("/dev/null", O_RDONLY);
      int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (devnull >= 0) ::dup2(devnull, 0);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      if (::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::execve(cargv[0], cargv.data(), cenv.data());
      ::_exit(127);
    }
  }
  ~Daemon() { kill_now(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// SIGKILL and reap (idempotent; safe from another thread once).
  void kill_now() {
    std::lock_guard lock(mutex_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  bool running() {
    std::lock_guard lock(mutex_);
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return s;
  }

 private:
  std::mutex mutex_;
  pid_t pid_ = -1;
  fs::path log_;
};

/// Polls `probe_ready` (bounded by `limit`) until the daemon answers /readyz with 200.
asio::awaitable<bool> wait_ready(std::string http, Daemon& d, std::chrono::milliseconds limit) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const auto deadline = steady::now() + limit;
  while (steady::now() < deadline && d.running()) {
    if (co_await codex::probe_ready(http, 500ms)) co_return true;
    timer.expires_after(25ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return false;
}

/// Waits (bounded) until the unix socket path exists (the daemon creates it when listening).
asio::awaitable<bool> wait_socket(fs::path p, Daemon& d, std::chrono::milliseconds limit) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const auto deadline = steady::now() + limit;
  while (steady::now() < deadline && d.running()) {
    std::error_code ec;
    if (fs::exists(p, ec)) co_return true;  // follows the symlink to the real socket
    timer.expires_after(25ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return false;
}

/// One test's world: watchdog, model server, CODEX_HOME + workspace, token file.
struct World {
  World() : watchdog(std::chrono::seconds(150)), server(), env(server) {
    try {
      codex::testing::find_pinned_codex();
    } catch (const std::exception& e) {
      FAIL("the remote tests need the real pinned codex binary: " << e.what());
    }
    token_file = env.root() / "ws-token";
    std::ofstream(token_file) << kToken << "\n";
    fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
  }

  /// Starts the WebSocket daemon with capability-token auth and waits until /readyz says 200.
  std::unique_ptr<Daemon> start_ws() {
    port = free_port();
    endpoint = "ws://127.0.0.1:" + std::to_string(port);
    auto d =
        std::make_unique<Daemon>(env, endpoint,
                                 std::vector<std::string>{"--ws-auth", "capability-token",
                                                          "--ws-token-file", token_file.string()});
    bool ready =
        run_async(ioc, wait_ready("http://127.0.0.1:" + std::to_string(port), *d, 30s), 40s);
    INFO("daemon output:\n" << d->log());
    REQUIRE(ready);
    return d;
  }

  codex::CodexConfig client_config() const {
    codex::CodexConfig cfg;
    cfg.endpoint = endpoint;
    cfg.auth_token_file = token_file.string();
    cfg.request_timeout = 30s;
    return cfg;
  }

  Watchdog watchdog;
  MockModelServer server;
  codex::testing::RealCodexEnv env;
  asio::io_context ioc;
  fs::path token_file;
  std::uint16_t port = 0;
  std::string endpoint;
};

}  // namespace

TEST_CASE("probe_ready: false when nothing listens, true on a running app-server",
          "[remote][ws][probe]") {
  World w;
  const auto closed_port = free_port();
  CHECK_FALSE(run_async(
      w.ioc, codex::probe_ready("http://127.0.0.1:" + std::to_string(closed_port), 2s), 10s));
  auto d = w.start_ws();
  CHECK(run_async(w.ioc, codex::probe_ready(w.endpoint, 5s), 10s));  // ws:// accepted too
}

TEST_CASE("ws: a full turn over WebSocket with the capability token", "[remote][ws][turn]") {
  World w;
  auto d = w.start_ws();
  w.server.enqueue(Response::message("Hello over WebSocket!", {.deltas = 3}));
  codex::AsyncCodex codex(w.ioc.get_executor(), w.client_config());
  auto body = [&]() -> asio::awaitable<std::optional<std::string>> {
    auto t = co_await codex.thread_start();
    CHECK(!t.id().empty());
    auto r = co_await t.run("Say hello");
    CHECK(r.status == codex::TurnStatus::completed);
    co_await codex.close();
    co_return r.final_response;
  };
  CHECK(run_async(w.ioc, body()) == std::optional<std::string>("Hello over WebSocket!"));
  REQUIRE(w.server.request_count() >= 1);
  CHECK(w.server.last_request().last_user_text() == std::optional<std::string>("Say hello"));
}

TEST_CASE("ws: two clients share one app-server, each with its own thread", "[remote][ws][multi]") {
  World w;
  auto d = w.start_ws();
  w.server.enqueue(Response::message("answer A"));
  w.server.enqueue(Response::message("answer B"));
  codex::CodexConfig cfg_b = w.client_config();
  cfg_b.auth_token_file.reset();
  cfg_b.auth_token = kToken;  // the same token, given inline
  codex::AsyncCodex a(w.ioc.get_executor(), w.client_config());
  codex::AsyncCodex b(w.ioc.get_executor(), cfg_b);
  auto body = [&]() -> asio::awaitable<void> {
    auto ta = co_await a.thread_start();
    auto tb = co_await b.thread_start();
    CHECK(ta.id() != tb.id());
    auto ra = co_await ta.run("question A");
    auto rb = co_await tb.run("question B");
    CHECK(ra.final_response == std::optional<std::string>("answer A"));
    CHECK(rb.final_response == std::optional<std::string>("answer B"));
    co_await a.close();
    // b still works after a left
    auto list = co_await b.thread_list();
    CHECK(list.contains("data"));
    co_await b.close();
  };
  run_async(w.ioc, body());
  auto reqs = w.server.requests();
  int model_posts = 0;
  for (auto& r : reqs)
    if (r.method == "POST") ++model_posts;
  CHECK(model_posts == 2);
}

TEST_CASE("ws: a wrong or missing token is refused with an authentication error",
          "[remote][ws][auth]") {
  World w;
  auto d = w.start_ws();
  const std::string wrong = "definitely-not-the-token-77";
  auto expect_auth_error = [&](codex::CodexConfig cfg) {
    codex::AsyncCodex codex(w.ioc.get_executor(), std::move(cfg));
    std::string what;
    bool threw = false;
    try {
      run_async(w.ioc, codex.start(), 30s);
    } catch (const codex::CodexError& e) {
      threw = true;
      what = e.what();
    }
    CHECK(threw);
    INFO("error: " << what);
    CHECK(what.find("authentication failed") != std::string::npos);
    CHECK(what.find(w.endpoint) != std::string::npos);
    CHECK(what.find(wrong) == std::string::npos);
    CHECK(what.find(kToken) == std::string::npos);
  };
  {
    codex::CodexConfig cfg = w.client_config();
    cfg.auth_token_file.reset();
    cfg.auth_token = wrong;
    expect_auth_error(std::move(cfg));
  }
  {
    codex::CodexConfig cfg = w.client_config();
    cfg.auth_token_file.reset();
    expect_auth_error(std::move(cfg));
  }
  CHECK(w.server.request_count() == 0);
}

TEST_CASE("ws: the app-server killed mid-turn fails the pending run() with TransportClosedError",
          "[remote][ws][drop]") {
  World w;
  auto d = w.start_ws();
  w.server.enqueue(Response::message("never finished", {.deltas = 4}).hold_after_deltas("mid", 1));
  codex::AsyncCodex codex(w.ioc.get_executor(), w.client_config());
  // Kills the daemon once the model stream is held mid-turn (off the io thread, no polling).
  bool held = false;
  std::thread killer([&] {
    held = w.server.wait_until_held("mid", 60s);
    d->kill_now();
  });
  auto body = [&]() -> asio::awaitable<std::string> {
    auto t = co_await codex.thread_start();
    std::string first;
    try {
      auto r = co_await t.run("start something long");
      (void)r;
      co_return std::string("run() returned");
    } catch (const codex::TransportClosedError& e) {
      first = e.what();
    }
    // Sticky: the next call fails the same way.
    bool sticky = false;
    try {
      co_await codex.thread_start();
    } catch (const codex::TransportClosedError&) {
      sticky = true;
    }
    co_return sticky ? "closed: " + first : std::string("second call succeeded");
  };
  std::string outcome;
  try {
    outcome = run_async(w.ioc, body(), 90s);
  } catch (...) {
    w.server.release("mid");
    killer.join();
    throw;
  }
  w.server.release("mid");
  killer.join();
  CHECK(held);
  INFO(outcome);
  CHECK(outcome.rfind("closed: ", 0) == 0);
}

TEST_CASE("unix: a full turn over the app-server's unix socket", "[remote][unix][turn]") {
  World w;
  const fs::path sock = w.env.root() / "app.sock";
  auto d = std::make_unique<Daemon>(w.env, "unix://" + sock.string(), std::vector<std::string>{});
  {
    bool up = run_async(w.ioc, wait_socket(sock, *d, 30s), 40s);
    INFO("daemon output:\n" << d->log());
    REQUIRE(up);
  }
  w.server.enqueue(Response::message("Hello over a unix socket!", {.deltas = 2}));
  codex::CodexConfig cfg;
  cfg.endpoint = "unix://" + sock.string();
  cfg.request_timeout = 30s;
  codex::AsyncCodex codex(w.ioc.get_executor(), cfg);
  auto body = [&]() -> asio::awaitable<std::optional<std::string>> {
    auto t = co_await codex.thread_start();
    auto r = co_await t.run("Say hello");
    co_await codex.close();
    co_return r.final_response;
  };
  CHECK(run_async(w.ioc, body()) == std::optional<std::string>("Hello over a unix socket!"));
}

TEST_CASE("endpoints: unsupported schemes are rejected before connecting", "[remote][parse]") {
  asio::io_context ioc;
  for (std::string bad : {"wss://127.0.0.1:1", "http://127.0.0.1:1", "ws://nohost", "unix://rel",
                          "tcp://127.0.0.1:1", "ws://127.0.0.1:99999"}) {
    codex::CodexConfig cfg;
    cfg.endpoint = bad;
    INFO(bad);
    CHECK_THROWS_AS(codex::make_endpoint_transport(ioc.get_executor(), cfg), std::invalid_argument);
  }
  codex::CodexConfig ok;
  ok.endpoint = "ws://127.0.0.1:4500";
  ok.auth_token = "secret-never-described";
  auto t = codex::make_endpoint_transport(ioc.get_executor(), ok);
  CHECK(t->describe() == "ws://127.0.0.1:4500");
  CHECK(t->exit_status() == std::nullopt);
  CHECK(t->stderr_tail().empty());
}
