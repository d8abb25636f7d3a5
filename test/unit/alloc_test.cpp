// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Counts the allocations of the hot path (issue #9: "no per-event allocation beyond the parsed
// value"). This executable replaces the global operator new, for itself only, with one that counts
// the calls made while a `Counting` is alive; Boost.JSON's default resource allocates through it.
// The counts are exact, not timings: the test compares the allocations of a turn's events read
// through `AsyncTurnStream::next()` with those of `boost::json::parser` parsing the same lines.
//
// Not counted: memory Asio takes with `aligned_alloc` directly (its recycled coroutine frames).

#include "engine_harness.hpp"

#include <codex/method_name.hpp>

#include <boost/json/parser.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};

void* counted(std::size_t n, std::size_t align = 0) {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = nullptr;
  if (align > alignof(std::max_align_t))
    p = std::aligned_alloc(align, (n + align - 1) / align * align);
  else
    p = std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}

/// Counts the allocations made while it is alive (one at a time).
class Counting {
 public:
  Counting() {
    g_allocations.store(0);
    g_counting.store(true);
  }
  ~Counting() { g_counting.store(false); }
  Counting(const Counting&) = delete;
  Counting& operator=(const Counting&) = delete;
  std::size_t stop() {
    g_counting.store(false);
    return g_allocations.load();
  }
};

/// A delta line as the real app-server writes it (the field set the bench's fake uses).
std::string delta_line(int i) {
  return R"({"method":"item/agentMessage/delta","params":{"threadId":"th-1","turnId":"tu-1",)"
         R"("itemId":"msg_0a1b2c3d4e5f60718293a4b5c6d7e8f9","delta":"word)" +
         std::to_string(i) + R"( "},"emittedAtMs":)" + std::to_string(1763900000000LL + i) + "}\n";
}

/// `lines` joined into chunks of about 64 KiB (one transport read each, as from the pipe).
std::vector<std::string> chunks_of(const std::vector<std::string>& lines) {
  std::vector<std::string> out(1);
  for (const auto& l : lines) {
    if (out.back().size() + l.size() > 64 * 1024) out.emplace_back();
    out.back() += l;
  }
  return out;
}

}  // namespace

void* operator new(std::size_t n) {
  return counted(n);
}
void* operator new[](std::size_t n) {
  return counted(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return counted(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

TEST_CASE("alloc: the counter sees allocations and only while counting", "[alloc]") {
  std::size_t n = 0;
  {
    Counting c;
    auto p = std::make_unique<std::string>(100, 'x');  // the object and its buffer
    n = c.stop();
  }
  CHECK(n == 2);
  Counting c;
  c.stop();
  auto q = std::make_unique<int>(1);
  CHECK(g_allocations.load() == 0);
}

TEST_CASE("alloc: a known method costs no allocation, another is held in one string", "[alloc]") {
  const std::string long_unknown = "vendor/somethingLongerThanTheSmallStringBuffer";
  const codex::MethodName first{std::string_view("turn/completed")};  // builds the shared table
  REQUIRE(first.is_known());
  Counting c;
  codex::MethodName known{std::string_view("item/agentMessage/delta")};
  codex::MethodName copy = known;
  codex::MethodName moved = std::move(copy);
  const std::string& read = moved;
  std::size_t known_allocations = c.stop();
  CHECK(known_allocations == 0);
  CHECK(read == "item/agentMessage/delta");

  Counting c2;
  codex::MethodName unknown{long_unknown};
  std::size_t unknown_allocations = c2.stop();
  CHECK(unknown_allocations == 2);  // the std::string and its buffer
  CHECK(unknown == long_unknown);
}

TEST_CASE("alloc: a turn's events cost no allocation beyond their parsed value", "[alloc]") {
  constexpr int kWarm = 2000;
  constexpr int kDeltas = 20000;

  std::vector<std::string> warm_lines;
  warm_lines.push_back(event("turn/started", R"({"threadId":"th-1","turn":{"id":"tu-1"}})"));
  for (int i = 0; i < kWarm; ++i)
    warm_lines.push_back(delta_line(i));
  std::vector<std::string> lines;
  for (int i = kWarm; i < kWarm + kDeltas; ++i)
    lines.push_back(delta_line(i));
  lines.push_back(event("turn/completed", R"({"threadId":"th-1","turn":{"id":"tu-1",
      "status":"completed","startedAt":100,"completedAt":102,"durationMs":2000}})"));

  // The floor: a reused parser (as the engine's) parsing each line, the value then destroyed.
  std::size_t floor = 0;
  {
    json::parser parser;
    for (const auto& l : warm_lines) {  // sizes the parser's own stack
      parser.reset();
      parser.write(l);
      json::value v = parser.release();
    }
    Counting c;
    for (const auto& l : lines) {
      parser.reset();
      parser.write(l);
      json::value v = parser.release();
    }
    floor = c.stop();
  }
  REQUIRE(floor >= static_cast<std::size_t>(kDeltas));  // each line allocates its DOM

  std::size_t sdk = 0;
  int events = 0;
  int unknown_methods = 0;
  Harness h;
  h.run(
      [&](codex::AsyncCodex& client) -> asio::awaitable<void> {
        Peer& peer = *h.peer;
        co_await start(peer, client);
        codex::AsyncThread thread = co_await start_thread(peer, client);
        codex::AsyncTurnHandle handle = co_await start_turn(peer, thread, "tu-1");
        codex::AsyncTurnStream stream = handle.stream();
        // Warm up: the read buffer, the turn's ring and Asio's frame caches reach their sizes.
        for (auto& chunk : chunks_of(warm_lines))
          peer.send_raw(std::move(chunk));
        for (int i = 0; i < kWarm + 1; ++i) {
          auto ev = co_await stream.next();
          REQUIRE(ev);
        }
        std::vector<std::string> chunks = chunks_of(lines);
        Counting c;
        for (auto& chunk : chunks)
          peer.send_raw(std::move(chunk));
        while (auto ev = co_await stream.next()) {
          ++events;
          if (!ev->method.is_known()) ++unknown_methods;
        }
        sdk = c.stop();
      },
      60s);

  INFO("allocations: " << sdk << " through the SDK, " << floor << " parsing the same "
                       << lines.size() << " lines");
  CHECK(events == kDeltas + 1);
  CHECK(unknown_methods == 0);
  CHECK(sdk >= floor);
  // One allocation more per event would be 20 000 more: allow a few per read (64 KiB) and the
  // ring's growth, nothing per event.
  CHECK(sdk - floor <= static_cast<std::size_t>(kDeltas) / 100);
}
