// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// codex_bench: the SDK against the physical floor, on the same bytes, in the same run.
//
//   codex_bench [--quick] [--reps R] [--sizes N,N,...] [--out DIR] [--no-real]
//       runs every case, each in a child process of its own (peak RSS from wait4 and from the
//       child's VmHWM), prints the table and writes DIR/results.json, DIR/table.md and the
//       chart data DIR/eps.dat, DIR/rss.dat (see bench/plot.gp).
//   codex_bench case NAME [n=N] [k=K] [iters=I] [text=T] [file=F] [workdir=D] [fake=PATH]
//       runs one case and prints its result as one JSON object.
#include "harness.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#ifndef FAKE_APP_SERVER_PATH
#define FAKE_APP_SERVER_PATH ""
#endif

extern char** environ;

namespace fs = std::filesystem;
using namespace bench;

namespace {

const std::map<std::string, std::function<Result(const Params&)>>& cases() {
  static const std::map<std::string, std::function<Result(const Params&)>> m{
      {"pipe_cat", floor_pipe},
      {"pipe", floor_pipe},
      {"parse", floor_parse},
      {"parse_route", floor_parse_route},
      {"parse_2t", floor_parse_2t},
      {"dump", floor_dump},
      {"rt_cat", floor_rt},
      {"rt_raw", floor_rt},
      {"async_stream", sdk_async_stream},
      {"async_run", sdk_async_run},
      {"sync_stream", sdk_sync_stream},
      {"sync_run", sdk_sync_run},
      {"async_kturns", sdk_async_kturns},
      {"rt_async", sdk_async_rt},
      {"rt_sync", sdk_sync_rt},
      {"real_start", real_start},
      {"real_turn", real_turn},
  };
  return m;
}

int run_case(int argc, char** argv) {
  ::alarm(600);  // a case that hangs ends (SIGALRM) and is reported as failed
  Params p;
  p.name = argv[0];
  p.fake = FAKE_APP_SERVER_PATH;
  if (const char* f = std::getenv("CODEX_BENCH_FAKE"); f && *f) p.fake = f;
  p.workdir = fs::temp_directory_path().string();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    if (eq == std::string::npos) throw std::runtime_error("bad argument " + a);
    std::string k = a.substr(0, eq), v = a.substr(eq + 1);
    if (k == "n")
      p.n = std::stoll(v);
    else if (k == "k")
      p.k = std::stoll(v);
    else if (k == "iters")
      p.iters = std::stoll(v);
    else if (k == "text")
      p.text = v;
    else if (k == "file")
      p.file = v;
    else if (k == "workdir")
      p.workdir = v;
    else if (k == "fake")
      p.fake = v;
    else if (k == "limit")
      p.limit = std::stoll(v);
    else
      throw std::runtime_error("unknown parameter " + k);
  }
  auto it = cases().find(p.name);
  if (it == cases().end()) throw std::runtime_error("unknown case " + p.name);
  Result r;
  try {
    r = it->second(p);
  } catch (...) {
    remove_scripts();
    throw;
  }
  remove_scripts();
  r["case"] = p.name;
  r["n"] = p.n;
  r["k"] = p.k;
  if (p.limit) r["limit"] = p.limit;
  r["vmhwm_kib"] = vmhwm_kib();
  std::cout << json::serialize(r) << std::endl;
  return 0;
}

// ---------------------------------------------------------------- the driver

struct Driver {
  std::string self;
  std::string out_dir;
  std::string workdir;
  int reps = 5;
  bool quick = false;
  bool real = true;
  std::vector<std::int64_t> sizes{1000, 10000, 100000, 1000000};
  std::int64_t headline_n = 100000;
  json::array all;

  /// Runs one case in a child process; returns its result plus ru_maxrss, or an "error".
  Result run(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv{self, "case", name, "workdir=" + workdir};
    for (auto& a : args)
      argv.push_back(a);
    std::cerr << "  " << name;
    for (auto& a : args)
      std::cerr << ' ' << a;
    std::cerr << std::flush;
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    ::posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<char*> cargv;
    for (auto& a : argv)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, self.c_str(), &fa, nullptr, cargv.data(), environ);
    ::posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    std::string text;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    rusage ru{};
    ::wait4(pid, &status, 0, &ru);
    Result r;
    auto nl = text.find_last_of('\n', text.size() >= 2 ? text.size() - 2 : 0);
    std::string last = nl == std::string::npos ? text : text.substr(nl + 1);
    boost::system::error_code ec;
    json::value v = json::parse(last, ec);
    if (!ec && v.is_object()) r = v.as_object();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || ec) {
      r["error"] = "exit status " +
                   std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      r["case"] = name;
    }
    r["ru_maxrss_kib"] = ru.ru_maxrss;
    if (auto* e = r.if_contains("eps"))
      std::cerr << "  " << static_cast<std::int64_t>(e->to_number<double>()) << " ev/s";
    if (auto* e = r.if_contains("rt_median_us"))
      std::cerr << "  " << e->to_number<double>() << " us";
    if (auto* e = r.if_contains("error")) {
      std::cerr << "  FAILED " << e->as_string();
      ++failures;
    }
    std::cerr << "\n";
    all.push_back(r);
    return r;
  }

  // Every repetition's result, by case and size. Throughput is reported as the best repetition
  // (the one least disturbed by other load on the machine), CPU per event as the median, memory
  // as the maximum.
  std::map<std::string, std::vector<Result>> runs;
  static std::string key(const std::string& c, std::int64_t n) {
    return c + "@" + std::to_string(n);
  }
  void keep(const std::string& k, const Result& r) { runs[k].push_back(r); }
  std::vector<double> values(const std::string& k, const char* metric) const {
    std::vector<double> v;
    auto it = runs.find(k);
    if (it == runs.end()) return v;
    for (auto& r : it->second) {
      if (r.contains("error") || r.contains("skipped")) continue;
      if (auto* x = r.if_contains(metric); x && x->is_number()) v.push_back(x->to_number<double>());
    }
    std::sort(v.begin(), v.end());
    return v;
  }
  double best(const std::string& k, const char* metric, bool higher = true) const {
    auto v = values(k, metric);
    return v.empty() ? NAN : higher ? v.back() : v.front();
  }
  double median(const std::string& k, const char* metric) const {
    auto v = values(k, metric);
    return v.empty() ? NAN : v[v.size() / 2];
  }
  double most(const std::string& k, const char* metric) const { return best(k, metric, true); }
  const Result* first(const std::string& k) const {
    auto it = runs.find(k);
    return it == runs.end() || it->second.empty() ? nullptr : &it->second.front();
  }

  static constexpr std::int64_t kLooseLimit =
      65536;  // the default before demand-aware backpressure
  const std::vector<std::string> stream_modes{"pipe_cat",    "pipe",        "parse",
                                              "parse_route", "parse_2t",    "async_stream",
                                              "async_run",   "sync_stream", "sync_run"};

  /// Every path must have delivered the same events with the same delta bytes.
  void check_agree(std::int64_t n) {
    const std::int64_t events = n + 5;
    std::vector<std::string> modes = stream_modes;
    modes.push_back("sync_stream_loose");
    for (auto& m : modes) {
      auto it = runs.find(key(m, n));
      if (it == runs.end()) continue;
      for (auto& r : it->second) {
        if (r.contains("error")) continue;
        bool ok = r.contains("events") && r.at("events").to_number<std::int64_t>() == events;
        if (r.contains("checksum"))
          ok = ok && r.at("delta_bytes").to_number<std::int64_t>() == n * 4 &&
               r.at("checksum").to_number<std::int64_t>() == n * ('t' + 'o' + 'k' + ' ');
        if (!ok) {
          std::cerr << "FAILED: " << m << " at N = " << n
                    << " did not deliver the turn intact: " << json::serialize(r) << "\n";
          failures++;
        }
      }
    }
  }
  int failures = 0;

  void run_all() {
    fs::create_directories(out_dir);
    fs::create_directories(workdir);
    for (auto n : sizes) {
      std::cerr << "streaming, one turn, N = " << n << "\n";
      const std::string file = workdir + "/stream-" + std::to_string(n) + ".jsonl";
      run("dump", {"n=" + std::to_string(n), "file=" + file});
      int r = n >= 1000000 ? std::max(1, reps - 2) : reps;
      for (int i = 0; i < r; ++i) {
        for (auto& m : stream_modes) {
          std::vector<std::string> args{"n=" + std::to_string(n)};
          if (m == "pipe_cat") args.push_back("file=" + file);
          keep(key(m, n), run(m, args));
        }
        // The sync stream again, with a looser buffer limit: what bounds its memory when the
        // consumer thread falls behind.
        keep(
            key("sync_stream_loose", n),
            run("sync_stream", {"n=" + std::to_string(n), "limit=" + std::to_string(kLooseLimit)}));
      }
      fs::remove(file);
      check_agree(n);
    }
    // K turns of N deltas each, interleaved. The headline shape carries as many deltas as the
    // largest single turn (1000 x 1000), so both streams have the same event mix; the second
    // (100 each) has 5 % lifecycle events, which are the longest lines of a turn.
    const std::int64_t kturns = 1000;
    const std::vector<std::int64_t> per_turns =
        quick ? std::vector<std::int64_t>{20} : std::vector<std::int64_t>{1000, 100};
    for (std::int64_t per_turn : per_turns) {
      std::cerr << "concurrent turns: K = " << kturns << ", N = " << per_turn << " each\n";
      for (int i = 0; i < reps; ++i) {
        keep(key("async_kturns", per_turn),
             run("async_kturns", {"k=" + std::to_string(kturns), "n=" + std::to_string(per_turn)}));
        keep(key("async_stream_ref", kturns * per_turn),
             run("async_stream", {"n=" + std::to_string(kturns * per_turn)}));
        // The floors on the same interleaved stream (one turn/start; the fake then streams K).
        for (std::string m : {"pipe", "parse"})
          keep(key(m + "_kturns", per_turn),
               run(m, {"k=" + std::to_string(kturns), "n=" + std::to_string(per_turn)}));
      }
      for (auto& r : runs[key("async_kturns", per_turn)]) {
        if (r.contains("error")) continue;
        if (r.at("events").to_number<std::int64_t>() != kturns * (per_turn + 5) ||
            r.at("completed").to_number<std::int64_t>() != kturns ||
            r.at("delta_bytes").to_number<std::int64_t>() != kturns * per_turn * 4) {
          std::cerr << "FAILED: async_kturns did not deliver every turn intact: "
                    << json::serialize(r) << "\n";
          failures++;
        }
      }
    }
    const std::int64_t iters = quick ? 1000 : 10000;
    std::cerr << "round trips: " << iters << " each\n";
    for (int i = 0; i < reps; ++i)
      for (std::string m : {"rt_cat", "rt_raw", "rt_async", "rt_sync"})
        keep(key(m, 0), run(m, {"iters=" + std::to_string(iters)}));
    if (real) {
      std::cerr << "real codex app-server\n";
      keep(key("real_start", 0), run("real_start", {"iters=" + std::string(quick ? "2" : "7")}));
      keep(key("real_turn", 0),
           run("real_turn", {"iters=" + std::string(quick ? "2" : "7"), "n=50"}));
    }
    report(kturns, per_turns);
  }

  // ---------------------------------------------------------------- report

  static std::string num(double v, int prec = 0) {
    if (std::isnan(v)) return "n/a";
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    // thousands separators (thin spaces keep markdown tables readable)
    std::string s = b;
    auto dot = s.find('.');
    std::string ip = s.substr(0, dot == std::string::npos ? s.size() : dot);
    std::string rest = dot == std::string::npos ? "" : s.substr(dot);
    std::string out;
    int cnt = 0;
    for (auto it = ip.rbegin(); it != ip.rend(); ++it) {
      if (cnt && cnt % 3 == 0 && *it != '-') out.insert(out.begin(), ' ');
      out.insert(out.begin(), *it);
      ++cnt;
    }
    return out + rest;
  }
  static std::string ratio(double v) { return std::isnan(v) ? "n/a" : num(v, 2); }
  static std::string mib(double kib) { return std::isnan(kib) ? "n/a" : num(kib / 1024.0, 1); }
  static std::string verdict(bool ok) { return ok ? "**met**" : "**missed**"; }

  std::string hwm(const std::string& k) const { return mib(most(k, "vmhwm_kib")); }

  void report(std::int64_t kturns, const std::vector<std::int64_t>& per_turns) {
    std::ostringstream t;
    const auto H = headline_n;
    const char* kEps = "eps";
    const char* kBusy = "busiest_thread_us_per_event";
    auto K = [&](const std::string& c) { return key(c, H); };
    const double parse = best(K("parse"), kEps), parse_cpu = median(K("parse"), kBusy);
    const double two = best(K("parse_2t"), kEps), two_cpu = median(K("parse_2t"), kBusy);
    auto row = [&](const std::string& label, const std::string& c, const std::string& vs,
                   double floor, double floor_cpu, double min_ratio) {
      double e = best(K(c), kEps), cpu = median(K(c), kBusy);
      t << "| " << label << " | " << num(e) << " | " << num(cpu, 3) << " | ";
      if (vs.empty())
        t << " | | | |";
      else
        t << ratio(e / floor) << " × " << vs << " | " << ratio(floor_cpu / cpu) << " | "
          << (min_ratio > 0 ? "≥ " + ratio(min_ratio) : "") << " | "
          << (min_ratio > 0 ? verdict(e / floor >= min_ratio) : "") << " |";
      t << " " << hwm(K(c)) << " |\n";
    };
    t << "### Streaming one turn, N = " << num(static_cast<double>(H))
      << " deltas (N + 5 events)\n\n";
    t << "| path | events/s | CPU µs/event | ratio (events/s) | ratio (CPU) | target | | peak RSS "
         "MiB |\n"
         "|---|---:|---:|---:|---:|---|---|---:|\n";
    row("floor: `cat` of the recorded stream through a pipe, lines counted", "pipe_cat", "", NAN,
        NAN, 0);
    row("floor: the fake's stream through the pipe, lines counted", "pipe", "", NAN, NAN, 0);
    row("floor: + `boost::json` parse of each line (1 thread)", "parse", "", NAN, NAN, 0);
    row("floor: + routing into a per-turn deque (1 thread)", "parse_route", "parse", parse,
        parse_cpu, 0);
    row("floor: parse on a reader thread, consume on another (2 threads)", "parse_2t", "parse",
        parse, parse_cpu, 0);
    row("`AsyncTurnHandle::stream()`", "async_stream", "parse", parse, parse_cpu, 0.70);
    row("`AsyncTurnHandle::run()`", "async_run", "parse", parse, parse_cpu, 0);
    row("`TurnHandle::stream()` (sync `Codex`)", "sync_stream", "2-thread", two, two_cpu, 0.70);
    row("`TurnHandle::run()` (sync `Codex`)", "sync_run", "2-thread", two, two_cpu, 0);
    row("`TurnHandle::stream()`, `max_buffered_turn_events` = " +
            num(static_cast<double>(kLooseLimit)),
        "sync_stream_loose", "2-thread", two, two_cpu, 0);
    t << "\nevents/s: best of " << reps
      << " runs; CPU µs/event: the busiest thread's CPU time over the "
         "timed window (median), which bounds a path's throughput whatever else the machine runs. "
         "The fake's own output rate is the `pipe` row against `pipe_cat` ("
      << ratio(best(K("pipe"), kEps) / best(K("pipe_cat"), kEps)) << " ×); "
      << num(median(K("pipe"), "bytes") / static_cast<double>(H + 5), 0) << " bytes per event.\n\n";

    // concurrent turns
    t << "### " << kturns << " concurrent turns on one `AsyncCodex` (interleaved round-robin)\n\n";
    t << "| deltas per turn | measurement | value | ratio (events/s) | ratio (CPU) | target | "
         "|\n|---:|---|---:|---:|---:|---|---|\n";
    for (std::int64_t per_turn : per_turns) {
      const bool headline = per_turn == per_turns.front();
      const std::string kk = key("async_kturns", per_turn),
                        rk = key("async_stream_ref", kturns * per_turn);
      const double kt = best(kk, kEps), ref = best(rk, kEps);
      const std::string n = num(static_cast<double>(per_turn));
      t << "| " << n << " | aggregate events/s | " << num(kt) << " | " << ratio(kt / ref)
        << " × one turn of " << num(static_cast<double>(kturns * per_turn)) << " deltas ("
        << num(ref) << " ev/s) | " << ratio(median(rk, kBusy) / median(kk, kBusy)) << " | "
        << (headline ? "≥ 0.80" : "") << " | " << (headline ? verdict(kt / ref >= 0.8) : "")
        << " |\n";
      const double kparse = best(key("parse_kturns", per_turn), kEps);
      t << "| " << n << " | the same interleaved stream: parse floor | " << num(kparse) << " | SDK "
        << ratio(kt / kparse) << " × this floor | "
        << ratio(median(key("parse_kturns", per_turn), kBusy) / median(kk, kBusy)) << " | | |\n";
      t << "| " << n << " | the same interleaved stream: the fake's rate (pipe floor) | "
        << num(best(key("pipe_kturns", per_turn), kEps)) << " | | | | |\n";
      t << "| " << n << " | slowest turn / median turn (time to `turn/completed`) | "
        << ratio(median(kk, "slowest_over_median")) << " | | | | |\n";
      t << "| " << n << " | peak RSS (MiB) | " << hwm(kk) << " | | | | |\n";
    }
    t << "\n";

    // round trips
    const char* kRt = "rt_median_us";
    const double raw = best(key("rt_raw", 0), kRt, false);
    t << "### Request round trip (a trivial method, answered by the fake in echo mode)\n\n";
    t << "| path | median µs | mean µs | p99 µs | ratio | target | "
         "|\n|---|---:|---:|---:|---:|---|---|\n";
    auto rt = [&](const std::string& label, const std::string& c, bool target) {
      const std::string k = key(c, 0);
      double m = best(k, kRt, false);
      t << "| " << label << " | " << num(m, 1) << " | " << num(median(k, "rt_mean_us"), 1) << " | "
        << num(median(k, "rt_p99_us"), 1) << " | " << ratio(m / raw) << " × raw | "
        << (target ? "≤ 2.00" : "") << " | " << (target ? verdict(m / raw <= 2.0) : "") << " |\n";
    };
    rt("floor: the same line through `cat`", "rt_cat", false);
    rt("floor: raw ping-pong with the fake (blocking write + read)", "rt_raw", false);
    rt("`AsyncCodex::request()`", "rt_async", true);
    rt("`Codex::request()` (sync, hop to the I/O thread)", "rt_sync", false);
    t << "\nmedian: the best of " << reps << " runs' medians; mean and p99: the median run's.\n\n";

    // memory
    t << "### Peak RSS (MiB, VmHWM of the process running the case) against N\n\n";
    t << "| N | `AsyncTurnHandle::stream()` | `AsyncTurnHandle::run()` | `TurnHandle::stream()` | "
         "`TurnHandle::run()` | `TurnHandle::stream()`, limit "
      << num(static_cast<double>(kLooseLimit)) << " | parse floor | 2-thread floor |\n";
    t << "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    double worst = 0, worst_default = 0;
    std::string worst_path;
    for (auto n : sizes) {
      t << "| " << num(static_cast<double>(n));
      for (std::string c : {"async_stream", "async_run", "sync_stream", "sync_run",
                            "sync_stream_loose", "parse", "parse_2t"}) {
        t << " | " << hwm(key(c, n));
        if (n == sizes.back() && c.find("parse") == std::string::npos) {
          double h = most(key(c, n), "vmhwm_kib");
          if (c != "sync_stream_loose" && h > worst_default) worst_default = h, worst_path = c;
          worst = std::max(worst, h);
        }
      }
      t << " |\n";
    }
    t << "\nTarget: independent of N, ≤ 16 MiB at N = " << num(static_cast<double>(sizes.back()))
      << ". With the default limits the worst SDK path (" << worst_path << ") peaked at "
      << mib(worst_default) << " MiB: " << verdict(worst_default <= 16 * 1024)
      << " (maximum over the runs).\n\n";

    // throughput against N
    t << "### Events/s against N (best of the runs)\n\n| N |";
    for (auto& m : stream_modes)
      t << " " << m << " |";
    t << "\n|---:|";
    for (std::size_t i = 0; i < stream_modes.size(); ++i)
      t << "---:|";
    t << "\n";
    for (auto n : sizes) {
      t << "| " << num(static_cast<double>(n)) << " |";
      for (auto& m : stream_modes)
        t << " " << num(best(key(m, n), kEps)) << " |";
      t << "\n";
    }
    t << "\n";

    if (real) {
      t << "### The real `codex app-server` (pinned CLI, offline against the scripted model "
           "server)\n\n";
      const Result* s = first(key("real_start", 0));
      const Result* u = first(key("real_turn", 0));
      if (!s || !u || s->contains("skipped") || u->contains("skipped") || s->contains("error") ||
          u->contains("error")) {
        const Result* bad = (s && (s->contains("skipped") || s->contains("error"))) ? s : u;
        t << "Skipped: "
          << (bad && bad->contains("skipped") ? json::serialize(bad->at("skipped"))
                                              : std::string("no result"))
          << "\n\n";
      } else {
        auto g = [&](const Result* r, const char* m) { return r->at(m).to_number<double>(); };
        t << "| measurement | wall (median) | SDK thread CPU (median) | SDK share "
             "|\n|---|---:|---:|---:|\n";
        t << "| spawn → `initialize` result (" << num(g(s, "iters")) << " spawns) | "
          << num(g(s, "wall_ms"), 1) << " ms | " << num(g(s, "sdk_cpu_ms"), 2) << " ms | "
          << num(100 * g(s, "sdk_share"), 1) << " % |\n";
        t << "| scripted turn, `turn/start` → `run()` returns (" << num(g(u, "deltas"))
          << " deltas, " << num(g(u, "events")) << " events; " << num(g(u, "iters")) << " turns) | "
          << num(g(u, "wall_ms"), 1) << " ms | " << num(g(u, "sdk_cpu_ms"), 2) << " ms | "
          << num(100 * g(u, "sdk_share"), 2) << " % |\n\n";
      }
    }
    std::cout << t.str();
    std::ofstream(out_dir + "/table.md") << t.str();
    std::ofstream(out_dir + "/results.json") << json::serialize(all) << "\n";

    // chart data
    std::ofstream eps(out_dir + "/eps.dat"), rss(out_dir + "/rss.dat");
    std::vector<std::string> columns = stream_modes;
    columns.push_back("sync_stream_loose");
    eps << "# N";
    rss << "# N";
    for (auto& m : columns)
      eps << ' ' << m, rss << ' ' << m;
    eps << "\n";
    rss << "\n";
    for (auto n : sizes) {
      eps << n;
      rss << n;
      for (auto& m : columns) {
        double e = best(key(m, n), "eps"), h = most(key(m, n), "vmhwm_kib");
        eps << ' ' << (std::isnan(e) ? std::string("NaN") : std::to_string(e));
        rss << ' ' << (std::isnan(h) ? std::string("NaN") : std::to_string(h / 1024.0));
      }
      eps << "\n";
      rss << "\n";
    }
  }
};

int run_driver(int argc, char** argv) {
  Driver d;
  d.self = fs::read_symlink("/proc/self/exe").string();
  d.out_dir = "bench-results";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      d.quick = true;
      d.reps = 1;
      d.sizes = {1000, 10000};
      d.headline_n = 10000;
    } else if (a == "--reps" && i + 1 < argc) {
      d.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--out" && i + 1 < argc) {
      d.out_dir = argv[++i];
    } else if (a == "--no-real") {
      d.real = false;
    } else if (a == "--sizes" && i + 1 < argc) {
      d.sizes.clear();
      std::stringstream ss(argv[++i]);
      std::string tok;
      while (std::getline(ss, tok, ','))
        d.sizes.push_back(std::stoll(tok));
      std::sort(d.sizes.begin(), d.sizes.end());
      d.headline_n = std::find(d.sizes.begin(), d.sizes.end(), 100000) != d.sizes.end()
                         ? 100000
                         : d.sizes.back();
    } else {
      std::cerr
          << "usage: codex_bench [--quick] [--reps R] [--sizes N,N,...] [--out DIR] [--no-real]\n"
             "       codex_bench case NAME [n=N] [k=K] [iters=I] [text=T] [file=F] [workdir=D]\n";
      return 2;
    }
  }
  d.out_dir = fs::absolute(d.out_dir).string();
  d.workdir = d.out_dir + "/work";
  d.run_all();
  fs::remove_all(d.workdir);
  if (d.failures) std::cerr << "codex_bench: " << d.failures << " case(s) FAILED\n";
  return d.failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 3 && std::strcmp(argv[1], "case") == 0) return run_case(argc - 2, argv + 2);
    return run_driver(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "codex_bench: " << e.what() << "\n";
    return 1;
  }
}
