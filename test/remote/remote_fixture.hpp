// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// The remote tests' shared fixture: the REAL pinned `codex app-server` started as a listening
// daemon (`--listen ws://127.0.0.1:PORT` with a capability token, or `--listen unix://PATH`),
// offline against the scripted model server, and the waits for it to be ready.
//
// Test code only, included by one translation unit per test program (remote_e2e_test.cpp,
// remote_tls_test.cpp): everything is in an unnamed namespace. Every wait is deadline-bounded and
// every process started is killed and reaped. Nothing sleeps to synchronize.
#pragma once

#include <catch2/catch.hpp>

#include <codex/codex.hpp>
#include <codex/transport.hpp>

#include "bounded_run.hpp"
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

// The watchdog and the bounded coroutine runner of every test layer (test/support/bounded_run.hpp).
using codex::testing::run_async;
using codex::testing::Watchdog;

// ---------------------------------------------------------------- the daemon

/// A port that was free a moment ago (bind 127.0.0.1:0, read it back, close). Plain POSIX: no Asio
/// socket templates for this.
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

// snippet-begin: remote_wait_ready
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
// snippet-end: remote_wait_ready

/// Waits (bounded) until the unix socket path exists (the daemon creates it when listening).
[[maybe_unused]] asio::awaitable<bool> wait_socket(fs::path p, Daemon& d,
                                                   std::chrono::milliseconds limit) {
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
  std::unique_ptr<Daemon> start_ws(std::uint16_t on_port = 0) {
    port = on_port ? on_port : free_port();
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
