// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Shared helpers of the end-to-end tests: the SDK against the REAL pinned `codex app-server`,
// offline, talking to the scripted model server (test/support) on 127.0.0.1.
//
// Every test is bounded: async bodies run through `run_async` (which cancels and FAILS the test
// on a hang), and every test owns a `Watchdog` that aborts the process with a clear message if a
// blocking call hangs. Nothing here sleeps to synchronize: the model server's gates and request
// waits, and the SDK's own waits, order the steps.
#pragma once

#ifndef CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#endif
#include <catch2/catch.hpp>

#include <codex/codex.hpp>

#include "bounded_run.hpp"
#include "mock_model_server.hpp"
#include "real_codex.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace e2e {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using codex::Notification;
using codex::testing::MockModelServer;
using codex::testing::RecordedRequest;
using codex::testing::Response;
using steady = std::chrono::steady_clock;

/// Default bound of one async test body / one wait.
inline constexpr std::chrono::milliseconds kAsyncTimeout = 60s;
/// Bound of one blocking wait on the model server (a request arriving, a stream being held).
inline constexpr std::chrono::milliseconds kServerWait = 30s;
/// Bound of one blocking `TurnStream::next`.
inline constexpr std::chrono::milliseconds kEventWait = 30s;

// ---------------------------------------------------------------- the binary

/// The pinned codex binary, or a test FAILURE (never a skip) naming what is missing.
inline std::string require_codex_binary() {
  try {
    return codex::testing::find_pinned_codex();
  } catch (const std::exception& e) {
    FAIL("the end-to-end tests need the real pinned codex binary (" << codex::pinned_cli_version
                                                                    << "): " << e.what());
  }
  return {};
}

// ---------------------------------------------------------------- hang guards

// The shared ones (test/support/bounded_run.hpp): `run_async` (default bound kAsyncTimeout) and
// `Watchdog` (names the test when it aborts).
using codex::testing::run_async;
using codex::testing::Watchdog;
static_assert(kAsyncTimeout == codex::testing::kRunAsyncTimeout);

// ---------------------------------------------------------------- environment

/// One test's world: a watchdog, the scripted model server, and a fresh CODEX_HOME + workspace.
/// Declare clients after it (they must be destroyed before the server).
struct Env {
  explicit Env(codex::testing::MockModelServerOptions opts = {},
               std::chrono::seconds limit = std::chrono::seconds(150))
      : watchdog(limit), server(std::move(opts)), env(server) {
    require_codex_binary();
  }

  /// The offline config for a client of this env (requests bounded well below the watchdog).
  codex::CodexConfig config() const {
    codex::CodexConfig cfg = env.config();
    cfg.request_timeout = 30s;
    return cfg;
  }
  const fs::path& workspace() const { return env.workspace(); }
  const fs::path& codex_home() const { return env.codex_home(); }

  Watchdog watchdog;
  MockModelServer server;
  codex::testing::RealCodexEnv env;
};

/// An `Env` with an io_context for `AsyncCodex` (declared before the client, so it outlives it).
struct AsyncEnv : Env {
  using Env::Env;
  asio::io_context ioc;
};

// ---------------------------------------------------------------- events

/// Everything one consumer saw of a turn.
struct Seen {
  std::vector<Notification> events;

  int count(std::string_view method) const {
    int n = 0;
    for (const auto& e : events)
      n += e.method == method ? 1 : 0;
    return n;
  }
  /// The `item/agentMessage/delta` texts, in order.
  std::vector<std::string> deltas() const {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.method == "item/agentMessage/delta") out.emplace_back(e.delta());
    return out;
  }
  std::string delta_text() const {
    std::string s;
    for (const auto& d : deltas())
      s += d;
    return s;
  }
  /// The completed agentMessage texts (from `item/completed`), in order.
  std::vector<std::string> agent_texts() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.method != "item/completed") continue;
      const auto* item = e.params.if_contains("item");
      if (!item || !item->is_object()) continue;
      const auto& o = item->get_object();
      if (const auto* t = o.if_contains("type");
          t && t->is_string() && t->get_string() == "agentMessage")
        if (const auto* x = o.if_contains("text"); x && x->is_string())
          out.emplace_back(x->get_string());
    }
    return out;
  }
  /// The status of the `turn/completed` turn ("" when none).
  std::string completed_status() const {
    for (const auto& e : events)
      if (e.method == "turn/completed")
        if (const auto* t = e.params.if_contains("turn"); t && t->is_object())
          if (const auto* s = t->get_object().if_contains("status"); s && s->is_string())
            return std::string(s->get_string());
    return {};
  }
};

/// An `EventObserver` that records into `seen`.
inline codex::EventObserver record_into(Seen& seen) {
  return [&seen](const Notification& n) { seen.events.push_back(n); };
}

/// The text of every agentMessage item of a result.
inline std::vector<std::string> agent_texts(const codex::TurnResult& r) {
  std::vector<std::string> out;
  for (const auto& item : r.items)
    if (const auto* t = item.if_contains("type");
        t && t->is_string() && t->get_string() == "agentMessage")
      if (const auto* x = item.if_contains("text"); x && x->is_string())
        out.emplace_back(x->get_string());
  return out;
}

/// A string member of a JSON object ("" when absent or not a string).
inline std::string str(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

/// `o[k1][k2]...` as an object pointer (nullptr when a step is missing).
inline const json::object* obj_at(const json::object& o,
                                  std::initializer_list<std::string_view> path) {
  const json::object* cur = &o;
  for (auto k : path) {
    const auto* v = cur->if_contains(k);
    if (!v || !v->is_object()) return nullptr;
    cur = &v->get_object();
  }
  return cur;
}

// ---------------------------------------------------------------- client events

/// Waits (bounded) for the next client-level event matching `pred`, skipping the others. FAILS,
/// listing what was skipped, when none arrives in time.
template <class Pred>
Notification wait_for_event(codex::Codex& client, Pred pred,
                            std::chrono::milliseconds timeout = kEventWait) {
  const auto deadline = steady::now() + timeout;
  std::string skipped;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) left = 1ms;
    try {
      Notification n = client.next_event(left);
      if (pred(n)) return n;
      skipped += n.method + " ";
    } catch (const codex::TimeoutError&) {
      FAIL("no matching client event within " << timeout.count() << " ms; skipped: " << skipped);
    }
  }
}

/// Discards the client-level events already buffered (each read waits at most 1 ms).
inline void drain_events(codex::Codex& client) {
  for (;;) {
    try {
      client.next_event(1ms);
    } catch (const codex::TimeoutError&) {
      return;
    }
  }
}

/// The thread ids of a `thread/list` result.
inline std::vector<std::string> listed_ids(const json::object& list) {
  std::vector<std::string> out;
  if (const auto* d = list.if_contains("data"); d && d->is_array())
    for (const auto& t : d->get_array())
      if (t.is_object()) out.push_back(str(t.get_object(), "id"));
  return out;
}

inline bool contains(const std::vector<std::string>& v, std::string_view x) {
  for (const auto& s : v)
    if (s == x) return true;
  return false;
}

// ---------------------------------------------------------------- model requests

inline bool is_model_request(const RecordedRequest& r) {
  return r.method == "POST" && r.target.rfind("/v1/responses", 0) == 0;
}

/// The `POST /v1/responses` requests received so far, oldest first.
inline std::vector<RecordedRequest> model_requests(const MockModelServer& s) {
  std::vector<RecordedRequest> out;
  for (auto& r : s.requests())
    if (is_model_request(r)) out.push_back(std::move(r));
  return out;
}

/// Waits (bounded) until the model server has received at least `n` model requests.
inline bool wait_for_model_requests(const MockModelServer& s, std::size_t n,
                                    std::chrono::milliseconds timeout = kServerWait) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    auto all = s.requests();
    std::size_t models = 0;
    for (const auto& r : all)
      models += is_model_request(r) ? 1 : 0;
    if (models >= n) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return false;
    s.wait_for_requests(all.size() + 1, left);
  }
}

/// True when some input text of the request contains `needle`.
inline bool texts_contain(const RecordedRequest& r, std::string_view needle) {
  for (const auto& t : r.input_texts())
    if (t.find(needle) != std::string::npos) return true;
  return false;
}

/// True when the whole request body contains `needle` (for text that may sit in any item kind).
inline bool body_contains(const RecordedRequest& r, std::string_view needle) {
  return r.body.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------- files

/// A valid 1x1 RGBA PNG.
inline constexpr std::string_view kTinyPngBase64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg"
    "==";

inline std::string base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0;
  unsigned acc = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return out;
}

inline void write_file(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// ---------------------------------------------------------------- processes

/// The contents of a /proc file, or "" when it cannot be read (the process may exit at any moment,
/// so every error just means "gone"; iostreams would throw from underflow here).
inline std::string read_proc_file(const fs::path& p) {
  std::string out;
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

/// The parent pid and state letter from `/proc/<pid>/stat` (nullopt when the process is gone).
inline std::optional<std::pair<pid_t, char>> proc_stat(pid_t pid) {
  std::string stat = read_proc_file(fs::path("/proc") / std::to_string(pid) / "stat");
  auto close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos || close + 4 > stat.size()) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  char state = '?';
  long ppid = 0;
  rest >> state >> ppid;
  return std::make_pair(static_cast<pid_t>(ppid), state);
}

/// Pids of this process's children whose environment has `CODEX_HOME=<home>` (the app-server
/// processes started for that env).
inline std::vector<pid_t> app_server_pids(const fs::path& codex_home) {
  const std::string needle = "CODEX_HOME=" + codex_home.string();
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    auto st = proc_stat(pid);
    if (!st || st->first != ::getpid()) continue;
    std::string env = read_proc_file(entry.path() / "environ");
    std::size_t start = 0;
    while (start < env.size()) {
      std::size_t end = env.find('\0', start);
      if (end == std::string::npos) end = env.size();
      if (std::string_view(env).substr(start, end - start) == needle) {
        out.push_back(pid);
        break;
      }
      start = end + 1;
    }
  }
  return out;
}

/// The single app-server child of `codex_home` (FAILS when there is not exactly one).
inline pid_t the_app_server_pid(const fs::path& codex_home) {
  auto pids = app_server_pids(codex_home);
  INFO("app-server children with CODEX_HOME=" << codex_home.string() << ": " << pids.size());
  REQUIRE(pids.size() == 1);
  return pids.front();
}

/// "gone" when /proc/<pid> no longer exists (exited and reaped), "zombie" when it exited but was
/// not reaped, else "running (<state>)".
inline std::string process_state(pid_t pid) {
  auto st = proc_stat(pid);
  if (!st) return "gone";
  if (st->second == 'Z') return "zombie";
  return std::string("running (") + st->second + ")";
}

}  // namespace e2e
