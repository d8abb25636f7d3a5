// Shared helpers of the integration tests: launch the scripted fake app-server (test/fake) as the
// SDK's binary with an inline script and a wire log in a fresh temp dir, read back what the SDK
// sent, and run coroutines with a hard deadline so that a hang fails the test instead of blocking.
#pragma once

#include <codex/codex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

// Relative: this target does not link codex::test_bounded_run (test/support).
#include "../support/bounded_run.hpp"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#ifndef FAKE_APP_SERVER_PATH
#error "FAKE_APP_SERVER_PATH must name the fake_app_server executable"
#endif

namespace itest {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

// The hang guards are shared by every test layer (test/support/bounded_run.hpp). `Watchdog`
// (default limit 60 s) ends the process with the test's name when a blocking call hangs.
using codex::testing::Watchdog;

/// `codex::testing::run_async` with the integration bound (30 s): runs `aw` on `ioc` (on the
/// calling thread) and returns its value or rethrows its exception; on a hang the coroutine is
/// cancelled and the test FAILS. The io_context keeps its other work (the client's loops).
template <class T>
T run_async(asio::io_context& ioc, asio::awaitable<T> aw, ms timeout = 30s) {
  return codex::testing::run_async(ioc, std::move(aw), timeout);
}

/// Waits (inside a coroutine) until `pred()` holds, checking every millisecond; false when
/// `timeout` passed first. For conditions set by other coroutines of the same io_context.
inline asio::awaitable<bool> eventually(std::function<bool()> pred, ms timeout = 5s) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = steady::now() + timeout;
  while (!pred()) {
    if (steady::now() >= deadline) co_return false;
    t.expires_after(1ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return true;
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// A fake app-server setup: a fresh temp dir holding the wire log (every line the SDK sent).
class Fake {
 public:
  explicit Fake(std::string script = "{}") : script_(std::move(script)) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/codex_itest_XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/wire.log";
  }
  ~Fake() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Fake(const Fake&) = delete;
  Fake& operator=(const Fake&) = delete;

  const std::string& dir() const noexcept { return dir_; }
  const std::string& log_path() const noexcept { return log_; }
  const std::string& script() const noexcept { return script_; }

  /// A config that launches the fake with the script and the wire log. Short deadlines, so a
  /// missing answer fails the test quickly.
  codex::CodexConfig config() const {
    codex::CodexConfig c;
    c.launch_args_override = {FAKE_APP_SERVER_PATH, "--script-json", script_};
    c.env["FAKE_APP_SERVER_LOG"] = log_;
    c.env["CODEX_HOME"] = dir_;
    c.request_timeout = 15s;
    c.shutdown_timeout = 2s;
    return c;
  }

  /// Every line the SDK sent so far, parsed (a line that is not a JSON object fails the test).
  std::vector<json::object> lines() const {
    std::vector<json::object> out;
    std::istringstream in(slurp(log_));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      boost::system::error_code ec;
      json::value v = json::parse(line, ec);
      INFO("wire line: " << line);
      REQUIRE(!ec);
      REQUIRE(v.is_object());
      out.push_back(std::move(v.get_object()));
    }
    return out;
  }

  /// The requests (messages with an id and a method) of `method`, in the order sent.
  std::vector<json::object> requests(std::string_view method) const {
    std::vector<json::object> out;
    for (auto& m : lines())
      if (m.contains("id") && is_method(m, method)) out.push_back(m);
    return out;
  }

  /// The `params` of the only request of `method` (fails unless there is exactly one).
  json::object params_of(std::string_view method) const {
    auto rs = requests(method);
    INFO("requests of " << method);
    REQUIRE(rs.size() == 1);
    REQUIRE(rs[0].contains("params"));
    REQUIRE(rs[0].at("params").is_object());
    return rs[0].at("params").get_object();
  }

  /// The replies the SDK sent to server requests (messages with an id and no method).
  std::vector<json::object> replies() const {
    std::vector<json::object> out;
    for (auto& m : lines())
      if (m.contains("id") && !m.contains("method")) out.push_back(m);
    return out;
  }

  static bool is_method(const json::object& m, std::string_view method) {
    auto* v = m.if_contains("method");
    return v && v->is_string() && v->get_string() == method;
  }

 private:
  std::string script_;
  std::string dir_;
  std::string log_;
};

/// Parses a JSON text (for expected values written as literals).
inline json::value J(std::string_view text) {
  return json::parse(text);
}
inline json::object O(std::string_view text) {
  return json::parse(text).as_object();
}

/// Child processes of this process that run the fake, zombies included (by /proc comm).
inline std::set<int> fake_children() {
  std::set<int> out;
  const int self = static_cast<int>(::getpid());
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (!end || *end != '\0' || pid <= 0) continue;
    std::string stat = slurp("/proc/" + std::string(e->d_name) + "/stat");
    // pid (comm) state ppid ...
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::string comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == self && comm == "fake_app_server") out.insert(static_cast<int>(pid));
  }
  ::closedir(d);
  return out;
}

}  // namespace itest
