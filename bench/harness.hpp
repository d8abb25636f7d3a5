// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Benchmark harness: child processes over pipes, the raw protocol, the shared consumer, timing.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <sys/types.h>
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

namespace json = boost::json;

inline constexpr std::string_view kDelta = "item/agentMessage/delta";
inline constexpr std::string_view kCompleted = "turn/completed";

/// Parameters of one case (also its command line: `case NAME key=value ...`).
struct Params {
  std::string name;
  std::int64_t n = 100000;     // deltas per turn
  std::int64_t k = 1;          // concurrent turns
  std::int64_t iters = 10000;  // round trips
  std::string text = "tok ";   // one delta's text
  std::string fake;            // the fake app-server binary
  std::string file;            // pre-generated stream (pipe_cat)
  std::string workdir;         // scratch directory (scripts)
  std::int64_t limit = 0;      // Limits::max_buffered_turn_events for the SDK (0: the default)
};

/// What a case prints: one JSON object on stdout.
using Result = json::object;

double now_s() noexcept;
/// CPU time of the calling thread, in seconds.
double thread_cpu_s() noexcept;
/// CPU time of this process (every thread, user + system), in seconds.
double process_cpu_s() noexcept;

/// CPU seconds of each live thread of this process so far, by thread id (from /proc).
std::map<long, double> threads_cpu_s();

/// A timed window: wall time, process CPU time and the CPU time of the busiest thread (the one
/// that bounds a pipelined path's throughput).
struct Window {
  double t0 = now_s(), c0 = process_cpu_s();
  std::map<long, double> threads0 = threads_cpu_s();
  double seconds = 0, cpu = 0, busiest = 0;
  void stop() {
    seconds = now_s() - t0;
    cpu = process_cpu_s() - c0;
    busiest = 0;
    for (auto& [tid, s] : threads_cpu_s()) {
      auto it = threads0.find(tid);
      busiest = std::max(busiest, s - (it == threads0.end() ? 0.0 : it->second));
    }
  }
};
/// Peak resident set of this process (VmHWM), in KiB.
std::int64_t vmhwm_kib();

/// A child with its stdin and stdout on pipes (stderr inherited).
struct Child {
  pid_t pid = -1;
  int in = -1;   // write end of the child's stdin
  int out = -1;  // read end of the child's stdout
};
Child spawn_child(const std::vector<std::string>& argv);
/// Closes stdin and stdout, then waits for the child (SIGKILL after `grace_ms`).
int reap_child(Child& c, int grace_ms = 2000);
void write_all(int fd, std::string_view data);

/// The consumer every case runs on every event: counts, and concatenates the delta text into a
/// buffer that is folded into a checksum every 64 KiB (so memory does not grow with N).
struct Consumer {
  std::uint64_t events = 0;
  std::uint64_t deltas = 0;
  std::uint64_t completed = 0;
  std::uint64_t delta_bytes = 0;
  std::uint64_t sum = 0;
  std::string text;

  void on(std::string_view method, std::string_view delta) {
    ++events;
    if (method == kDelta) {
      ++deltas;
      text.append(delta);
      if (text.size() >= 64 * 1024) fold();
    } else if (method == kCompleted) {
      ++completed;
    }
  }
  void fold() {
    delta_bytes += text.size();
    for (unsigned char c : text)
      sum += c;
    text.clear();
  }
  void finish(Result& r);
};

/// The fake app-server's script for a case (a file in `p.workdir`), and the argv to run it.
std::vector<std::string> fake_argv(const Params& p, const json::object& script);
/// Removes the script files `fake_argv` wrote.
void remove_scripts();
json::object stream_script(const Params& p);
json::object k_turns_script(const Params& p);
json::object echo_script();

/// The exact request lines the SDK sends (serialized the same way), for the raw floors.
std::string initialize_line(std::int64_t id);
std::string turn_start_line(std::int64_t id, std::string_view thread_id, std::string_view text);
std::string echo_line(std::int64_t id);

/// A fake app-server driven by hand: spawned, initialized and (unless `start_thread` is false)
/// with one thread started. All the server's output up to that point has been consumed.
struct RawServer {
  explicit RawServer(const std::vector<std::string>& argv, bool start_thread = true);
  ~RawServer();
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;
  /// Reads one line (blocking, untimed paths only).
  std::string read_line();
  Child child;
  std::string thread_id;
  std::string pending;  // bytes read past the last line
};

// Cases. Each returns its result object (printed by main).
Result floor_pipe(const Params& p);         // read + count lines (fake or cat)
Result floor_parse(const Params& p);        // + boost::json parse of every line
Result floor_parse_route(const Params& p);  // + route into a per-turn deque, consume
Result floor_parse_2t(const Params& p);     // reader thread parses, consumer thread consumes
Result floor_dump(const Params& p);         // writes the turn's bytes to p.file (for pipe_cat)
Result floor_rt(const Params& p);           // raw ping-pong with the fake (echo) or cat
Result sdk_async_stream(const Params& p);
Result sdk_async_run(const Params& p);
Result sdk_sync_stream(const Params& p);
Result sdk_sync_run(const Params& p);
Result sdk_async_kturns(const Params& p);
Result sdk_async_rt(const Params& p);
Result sdk_sync_rt(const Params& p);
Result real_start(const Params& p);
Result real_turn(const Params& p);

/// Latency summary of `samples` (seconds) into `r` as microseconds.
void latency_summary(std::vector<double>& samples, Result& r);

}  // namespace bench
