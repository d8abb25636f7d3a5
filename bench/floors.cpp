// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// The floors: the same bytes from the same fake app-server, read with the least work that still
// does each step (read, parse, route, hand over to another thread, ping-pong).
#include "harness.hpp"

#include <boost/json/parser.hpp>

#include <unistd.h>
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace bench {

namespace {

/// Reads a pipe in chunks of at least 64 KiB (like the SDK's framer) and hands out complete
/// lines. `on_chunk_end` runs after the lines of each read were handed out.
class ChunkReader {
 public:
  explicit ChunkReader(int fd) : fd_(fd), buf_(256 * 1024) {}

  /// Calls `line(std::string_view)` for every line until it returns false, and `chunk()` after
  /// each read's lines until that returns false. Returns false at end of stream.
  template <class Line, class Chunk>
  bool run(Line&& line, Chunk&& chunk) {
    for (;;) {
      if (buf_.size() - end_ < 64 * 1024) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        if (buf_.size() - end_ < 64 * 1024) buf_.resize(buf_.size() * 2);
      }
      ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      std::size_t scan = end_;
      end_ += static_cast<std::size_t>(n);
      bool go = true;
      while (go) {
        auto* nl = static_cast<char*>(std::memchr(buf_.data() + scan, '\n', end_ - scan));
        if (!nl) break;
        std::size_t len = static_cast<std::size_t>(nl - (buf_.data() + begin_));
        go = line(std::string_view(buf_.data() + begin_, len));
        begin_ += len + 1;
        scan = begin_;
      }
      if (!chunk() || !go) return true;
      if (begin_ == end_) begin_ = end_ = 0;
    }
  }

 private:
  int fd_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
};

std::string_view str(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key))
    if (auto* s = v->if_string()) return *s;
  return {};
}

/// The consumer's view of a parsed line: method and delta (responses are skipped).
void consume(const json::value& v, Consumer& c) {
  auto& o = v.get_object();
  auto method = str(o, "method");
  if (method.empty()) return;
  std::string_view delta;
  if (method == kDelta)
    if (auto* p = o.if_contains("params"); p && p->is_object())
      delta = str(p->get_object(), "delta");
  c.on(method, delta);
}

std::string_view turn_of(const json::object& o) {
  auto* p = o.if_contains("params");
  if (!p || !p->is_object()) return {};
  auto& params = p->get_object();
  auto t = str(params, "turnId");
  if (!t.empty()) return t;
  if (auto* turn = params.if_contains("turn"); turn && turn->is_object())
    return str(turn->get_object(), "id");
  return {};
}

void stream_result(Result& r, Consumer& c, const Window& w) {
  c.finish(r);
  r["seconds"] = w.seconds;
  r["cpu_seconds"] = w.cpu;
  r["eps"] = static_cast<double>(c.events) / w.seconds;
  r["cpu_us_per_event"] = w.cpu * 1e6 / static_cast<double>(c.events);
  r["busiest_thread_us_per_event"] = w.busiest * 1e6 / static_cast<double>(c.events);
}

std::int64_t expected_lines(const Params& p) {
  return 1 + p.k * (p.n + 5);
}

}  // namespace

Result floor_pipe(const Params& p) {
  // "pipe": the fake's turn read through the pipe, lines counted; "pipe_cat": the same bytes
  // from a file through `cat`.
  const bool from_cat = p.name == "pipe_cat";
  std::unique_ptr<RawServer> srv;
  Child cat;
  int fd;
  Window w;
  if (from_cat) {
    w = Window();
    cat = spawn_child({"/bin/cat", p.file});
    fd = cat.out;
  } else {
    srv = std::make_unique<RawServer>(fake_argv(p, stream_script(p)));
    fd = srv->child.out;
    w = Window();
    write_all(srv->child.in, turn_start_line(3, srv->thread_id, "go"));
  }
  const std::int64_t want = expected_lines(p);
  std::int64_t lines = 0;
  std::size_t bytes = 0;
  ChunkReader reader(fd);
  reader.run(
      [&](std::string_view l) {
        bytes += l.size() + 1;
        return ++lines < want;
      },
      [] { return true; });
  w.stop();
  if (from_cat) reap_child(cat);
  if (lines != want) throw std::runtime_error("pipe floor: short stream");
  Result r;
  const auto events = static_cast<double>(p.k * (p.n + 5));
  r["events"] = p.k * (p.n + 5);
  r["bytes"] = bytes;
  r["seconds"] = w.seconds;
  r["cpu_seconds"] = w.cpu;
  r["eps"] = events / w.seconds;
  r["cpu_us_per_event"] = w.cpu * 1e6 / events;
  r["busiest_thread_us_per_event"] = w.busiest * 1e6 / events;
  r["mib_per_s"] = static_cast<double>(bytes) / w.seconds / (1024.0 * 1024.0);
  return r;
}

Result floor_dump(const Params& p) {
  RawServer srv(fake_argv(p, stream_script(p)));
  write_all(srv.child.in, turn_start_line(3, srv.thread_id, "go"));
  std::ofstream out(p.file, std::ios::binary);
  const std::int64_t want = expected_lines(p);
  std::int64_t lines = 0;
  ChunkReader reader(srv.child.out);
  reader.run(
      [&](std::string_view l) {
        out.write(l.data(), static_cast<std::streamsize>(l.size()));
        out.put('\n');
        return ++lines < want;
      },
      [] { return true; });
  Result r;
  r["lines"] = lines;
  return r;
}

Result floor_parse(const Params& p) {
  RawServer srv(fake_argv(p, stream_script(p)));
  Consumer c;
  json::parser parser;
  Window w;
  write_all(srv.child.in, turn_start_line(3, srv.thread_id, "go"));
  ChunkReader reader(srv.child.out);
  reader.run(
      [&](std::string_view l) {
        parser.reset();
        parser.write(l.data(), l.size());
        json::value v = parser.release();
        consume(v, c);
        return c.completed < static_cast<std::uint64_t>(p.k);
      },
      [] { return true; });
  w.stop();
  Result r;
  stream_result(r, c, w);
  return r;
}

Result floor_parse_route(const Params& p) {
  // Parse, classify by turn id into a per-turn deque; after each read the consumer drains the
  // turns that got events (one thread, like an io_context).
  RawServer srv(fake_argv(p, stream_script(p)));
  Consumer c;
  json::parser parser;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::deque<json::value>, Hash, std::equal_to<>> turns;
  std::vector<std::deque<json::value>*> ready;
  Window w;
  write_all(srv.child.in, turn_start_line(3, srv.thread_id, "go"));
  ChunkReader reader(srv.child.out);
  reader.run(
      [&](std::string_view l) {
        parser.reset();
        parser.write(l.data(), l.size());
        json::value v = parser.release();
        auto& o = v.get_object();
        if (!o.contains("method")) return true;  // the turn/start response
        auto turn = turn_of(o);
        auto it = turns.find(turn);
        if (it == turns.end())
          it = turns.emplace(std::string(turn), std::deque<json::value>()).first;
        if (it->second.empty()) ready.push_back(&it->second);
        it->second.push_back(std::move(v));
        return true;
      },
      [&] {
        for (auto* q : ready) {
          while (!q->empty()) {
            json::value v = std::move(q->front());
            q->pop_front();
            consume(v, c);
          }
        }
        ready.clear();
        return c.completed < static_cast<std::uint64_t>(p.k);
      });
  w.stop();
  Result r;
  stream_result(r, c, w);
  return r;
}

Result floor_parse_2t(const Params& p) {
  // A reader thread parses every line and hands the values over in batches (one per read); the
  // calling thread consumes them. The hand-over is bounded (the reader waits while the consumer
  // has more than kMaxQueued values to go), so memory stays flat whoever is faster.
  static constexpr std::size_t kMaxQueued = 16384;
  RawServer srv(fake_argv(p, stream_script(p)));
  std::mutex mu;
  std::condition_variable cv, space;
  std::vector<json::value> shared;
  bool done = false;
  Consumer c;
  Window w;
  write_all(srv.child.in, turn_start_line(3, srv.thread_id, "go"));
  double reader_cpu = 0;  // the reader's own CPU time (it may exit before the window closes)
  std::thread reader_thread([&] {
    const double cpu0 = thread_cpu_s();
    json::parser parser;
    std::vector<json::value> batch;
    std::int64_t completed = 0;
    ChunkReader reader(srv.child.out);
    reader.run(
        [&](std::string_view l) {
          parser.reset();
          parser.write(l.data(), l.size());
          batch.push_back(parser.release());
          auto& o = batch.back().get_object();
          if (str(o, "method") == kCompleted) ++completed;
          return completed < p.k;
        },
        [&] {
          if (batch.empty()) return true;
          bool wake;
          {
            std::unique_lock lk(mu);
            space.wait(lk, [&] { return shared.size() < kMaxQueued; });
            wake = shared.empty();
            if (wake)
              shared.swap(batch);
            else
              std::move(batch.begin(), batch.end(), std::back_inserter(shared));
          }
          batch.clear();
          if (wake) cv.notify_one();
          return true;
        });
    std::lock_guard lk(mu);
    reader_cpu = thread_cpu_s() - cpu0;
    done = true;
    cv.notify_one();
  });
  std::vector<json::value> local;
  for (;;) {
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return !shared.empty() || done; });
      if (shared.empty() && done) break;
      local.swap(shared);
    }
    space.notify_one();
    for (auto& v : local)
      consume(v, c);
    local.clear();
    if (c.completed >= static_cast<std::uint64_t>(p.k)) break;
  }
  w.stop();
  reader_thread.join();
  w.busiest = std::max(w.busiest, reader_cpu);
  Result r;
  stream_result(r, c, w);
  return r;
}

Result floor_rt(const Params& p) {
  // "rt_raw": the SDK's request line to the fake in echo mode, blocking read of the answer.
  // "rt_cat": the same line through `cat` (the pipe's own round trip).
  std::unique_ptr<RawServer> srv;
  Child cat;
  int in, out;
  if (p.name == "rt_cat") {
    cat = spawn_child({"/bin/cat"});
    in = cat.in;
    out = cat.out;
  } else {
    srv = std::make_unique<RawServer>(fake_argv(p, echo_script()), false);
    in = srv->child.in;
    out = srv->child.out;
  }
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(p.iters));
  char buf[4096];
  const std::int64_t warm = 200;
  for (std::int64_t i = 0; i < warm + p.iters; ++i) {
    std::string line = echo_line(10 + i);  // built outside the timed part
    double t0 = now_s();
    write_all(in, line);
    for (;;) {
      ssize_t n = ::read(out, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("round trip: the peer closed");
      if (buf[n - 1] == '\n') break;
    }
    double t1 = now_s();
    if (i >= warm) samples.push_back(t1 - t0);
  }
  if (p.name == "rt_cat") reap_child(cat);
  Result r;
  latency_summary(samples, r);
  return r;
}

}  // namespace bench
