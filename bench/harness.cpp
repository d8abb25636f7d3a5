// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace bench {

double now_s() noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double thread_cpu_s() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double process_cpu_s() noexcept {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

std::map<long, double> threads_cpu_s() {
  // schedstat's first field: nanoseconds on a CPU (stat's utime/stime tick at 10 ms only).
  std::map<long, double> m;
  for (auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream f(e.path() / "schedstat");
    double ns = 0;
    if (f >> ns) m[std::stol(e.path().filename().string())] = ns * 1e-9;
  }
  return m;
}

std::int64_t vmhwm_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

Child spawn_child(const std::vector<std::string>& argv) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  ::posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  return Child{pid, in[1], out[0]};
}

int reap_child(Child& c, int grace_ms) {
  if (c.in >= 0) ::close(c.in), c.in = -1;
  if (c.out >= 0) ::close(c.out), c.out = -1;
  if (c.pid <= 0) return -1;
  int status = 0;
  for (int waited = 0;; waited += 5) {
    pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == c.pid) break;
    if (r < 0) return -1;
    if (waited >= grace_ms) {
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, &status, 0);
      break;
    }
    ::usleep(5000);
  }
  c.pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(w));
  }
}

void Consumer::finish(Result& r) {
  fold();
  r["events"] = events;
  r["deltas"] = deltas;
  r["completed"] = completed;
  r["delta_bytes"] = delta_bytes;
  r["checksum"] = sum;
}

// ---------------------------------------------------------------- scripts and request lines

namespace {
std::vector<std::string> g_scripts;
}

std::vector<std::string> fake_argv(const Params& p, const json::object& script) {
  std::string path = p.workdir + "/codex-bench-script-" + std::to_string(::getpid()) + "-" +
                     std::to_string(g_scripts.size()) + ".json";
  std::ofstream(path) << json::serialize(script);
  g_scripts.push_back(path);
  return {p.fake, "app-server", "--listen", "stdio://", "--script", path};
}

void remove_scripts() {
  for (auto& s : g_scripts)
    ::unlink(s.c_str());
  g_scripts.clear();
}

json::object stream_script(const Params& p) {
  json::object st{{"deltas", p.n}, {"text", p.text}, {"turns", p.k}};
  json::array reaction{json::object{{"stream_turn", std::move(st)}}};
  return json::object{{"on", json::object{{"turn/start", std::move(reaction)}}}};
}

json::object k_turns_script(const Params& p) {
  // Calls 1..K-1 of turn/start get the default response (turn ids turn_1 ... turn_{K-1}); call K
  // answers too, then streams all K turns interleaved round-robin.
  json::array reactions;
  for (std::int64_t i = 1; i < p.k; ++i)
    reactions.push_back(json::array{json::object{{"default", "response"}}});
  json::array ids;
  for (std::int64_t i = 1; i <= p.k; ++i)
    ids.push_back(json::string("turn_" + std::to_string(i)));
  json::object st{{"deltas", p.n},
                  {"text", p.text},
                  {"turns", p.k},
                  {"respond", false},
                  {"turn_ids", std::move(ids)}};
  reactions.push_back(json::array{json::object{{"default", "response"}},
                                  json::object{{"stream_turn", std::move(st)}}});
  return json::object{{"on", json::object{{"turn/start", std::move(reactions)}}}};
}

json::object echo_script() {
  return json::object{{"echo", true}};
}

std::string initialize_line(std::int64_t id) {
  json::object msg{
      {"id", id},
      {"method", "initialize"},
      {"params", json::object{{"clientInfo", json::object{{"name", "codex_cpp_bench"},
                                                          {"title", "bench"},
                                                          {"version", "0"}}},
                              {"capabilities", json::object{{"experimentalApi", true}}}}}};
  return json::serialize(msg) + "\n";
}

std::string turn_start_line(std::int64_t id, std::string_view thread_id, std::string_view text) {
  json::array input{json::object{{"type", "text"}, {"text", text}}};
  json::object msg{{"id", id},
                   {"method", "turn/start"},
                   {"params", json::object{{"threadId", thread_id}, {"input", std::move(input)}}}};
  return json::serialize(msg) + "\n";
}

std::string echo_line(std::int64_t id) {
  json::object msg{{"id", id}, {"method", "bench/echo"}, {"params", json::object{}}};
  return json::serialize(msg) + "\n";
}

// ---------------------------------------------------------------- RawServer

RawServer::RawServer(const std::vector<std::string>& argv, bool start_thread)
    : child(spawn_child(argv)) {
  write_all(child.in, initialize_line(1));
  for (;;) {
    auto v = json::parse(read_line());
    if (auto* id = v.as_object().if_contains("id"); id && *id == 1) break;
  }
  write_all(child.in, "{\"method\":\"initialized\"}\n");
  if (!start_thread) {
    // One request answered: everything the server sent after `initialize` has been read.
    write_all(child.in, echo_line(2));
    for (;;) {
      auto v = json::parse(read_line());
      if (auto* id = v.as_object().if_contains("id"); id && *id == 2) break;
    }
    if (!pending.empty()) throw std::runtime_error("unexpected output after initialize");
    return;
  }
  write_all(child.in, "{\"id\":2,\"method\":\"thread/start\",\"params\":{}}\n");
  bool response = false, started = false;
  while (!(response && started)) {
    auto v = json::parse(read_line());
    auto& o = v.as_object();
    if (auto* id = o.if_contains("id"); id && *id == 2) {
      if (auto* r = o.if_contains("result"))
        thread_id = std::string(r->at("thread").at("id").as_string());
      response = true;
    } else if (auto* m = o.if_contains("method"); m && *m == "thread/started") {
      started = true;
    }
  }
  if (!pending.empty()) throw std::runtime_error("unexpected output after thread/start");
}

RawServer::~RawServer() {
  reap_child(child);
}

std::string RawServer::read_line() {
  for (;;) {
    auto nl = pending.find('\n');
    if (nl != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      return line;
    }
    char buf[65536];
    ssize_t n = ::read(child.out, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("the fake app-server closed its stdout");
    pending.append(buf, static_cast<std::size_t>(n));
  }
}

void latency_summary(std::vector<double>& s, Result& r) {
  std::sort(s.begin(), s.end());
  double sum = 0;
  for (double x : s)
    sum += x;
  auto at = [&](double q) {
    return s[std::min(s.size() - 1, static_cast<std::size_t>(q * static_cast<double>(s.size())))];
  };
  r["iters"] = s.size();
  r["rt_median_us"] = at(0.5) * 1e6;
  r["rt_mean_us"] = sum / static_cast<double>(s.size()) * 1e6;
  r["rt_p99_us"] = at(0.99) * 1e6;
  r["rt_min_us"] = s.front() * 1e6;
}

}  // namespace bench
