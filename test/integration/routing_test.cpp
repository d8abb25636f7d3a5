// Routing (python-sdk-behavior.md §4, §6): per-turn streams, events that arrive before the
// turn/start response, several consumers of one turn, client-level events and their bound, and
// the TurnResult assembly (final_response rule and fields).

#include "fake_fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/array.hpp>

#include <optional>
#include <type_traits>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// From the sanitizer runtime (its header ships with clang only).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

namespace {

using namespace itest;
using namespace asio::experimental::awaitable_operators;

template <class E, class T>
asio::awaitable<std::optional<E>> thrown(asio::awaitable<T> aw) {
  std::optional<E> out;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(aw);
    } else {
      (void)co_await std::move(aw);
    }
  } catch (const E& e) {
    out.emplace(e);
  }
  co_return out;
}

/// Reads a stream to its end (each read has a deadline).
asio::awaitable<std::vector<codex::Notification>> drain(codex::AsyncTurnStream& s) {
  std::vector<codex::Notification> out;
  while (auto ev = co_await s.next(ms(10000)))
    out.push_back(std::move(*ev));
  co_return out;
}

std::vector<std::string> methods_of(const std::vector<codex::Notification>& evs) {
  std::vector<std::string> out;
  for (auto& e : evs)
    out.push_back(e.method);
  return out;
}

std::string deltas_of(const std::vector<codex::Notification>& evs) {
  std::string out;
  for (auto& e : evs)
    if (e.method == "item/agentMessage/delta") out += std::string(e.delta());
  return out;
}

// Two turns on two threads; the second reaction interleaves the events of both turns.
const char* kInterleaved = R"({"on":{"turn/start":[
  [{"default":"response"},
   {"notify":"turn/started","params":{"threadId":"$threadId",
     "turn":{"id":"$turnId","items":[],"status":"inProgress","error":null}}},
   {"notify":"item/agentMessage/delta","params":{"threadId":"$threadId","turnId":"$turnId",
     "itemId":"m1","delta":"A1"}}],
  [{"default":"response"},
   {"notify":"turn/started","params":{"threadId":"$threadId",
     "turn":{"id":"$turnId","items":[],"status":"inProgress","error":null}}},
   {"notify":"item/agentMessage/delta","params":{"threadId":"$threadId","turnId":"$turnId",
     "itemId":"m2","delta":"B1"}},
   {"notify":"item/agentMessage/delta","params":{"threadId":"thr_1","turnId":"turn_1",
     "itemId":"m1","delta":"A2"}},
   {"notify":"item/agentMessage/delta","params":{"threadId":"$threadId","turnId":"$turnId",
     "itemId":"m2","delta":"B2"}},
   {"notify":"item/completed","params":{"threadId":"thr_1","turnId":"turn_1",
     "item":{"type":"agentMessage","id":"m1","text":"A1A2","phase":"final_answer"}}},
   {"notify":"item/completed","params":{"threadId":"$threadId","turnId":"$turnId",
     "item":{"type":"agentMessage","id":"m2","text":"B1B2","phase":null}}},
   {"notify":"turn/completed","params":{"threadId":"thr_1",
     "turn":{"id":"turn_1","items":[],"status":"completed","error":null}}},
   {"notify":"turn/completed","params":{"threadId":"$threadId",
     "turn":{"id":"$turnId","items":[],"status":"completed","error":null}}}]]}})";

const std::vector<std::string> kInterleavedMethods = {"turn/started", "item/agentMessage/delta",
                                                      "item/agentMessage/delta", "item/completed",
                                                      "turn/completed"};

// The notifications of the fake's realistic turn that carry the turn id, in order.
const std::vector<std::string> kTurnMethods = {"turn/started",
                                               "item/started",
                                               "item/completed",
                                               "item/started",
                                               "item/agentMessage/delta",
                                               "item/agentMessage/delta",
                                               "item/completed",
                                               "thread/tokenUsage/updated",
                                               "turn/completed"};

/// Bytes of heap in use (live allocations), from the sanitizer's allocator when there is one.
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

}  // namespace

TEST_CASE("two interleaved turns on one client: each stream sees only its own events",
          "[routing]") {
  Watchdog wd;
  Fake fake(kInterleaved);
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::vector<codex::Notification> ev1, ev2;
  std::string id1, id2;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t1 = co_await client.thread_start(so);
    auto t2 = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h1 = co_await t1.turn("a", to);
    auto h2 = co_await t2.turn("b", to);
    id1 = h1.id();
    id2 = h2.id();
    auto s1 = h1.stream();
    auto s2 = h2.stream();
    // Read the second turn first: the first turn's events wait in its own log meanwhile.
    ev2 = co_await drain(s2);
    ev1 = co_await drain(s1);
    co_await client.close();
  }());
  CHECK(id1 == "turn_1");
  CHECK(id2 == "turn_2");
  CHECK(methods_of(ev1) == kInterleavedMethods);
  CHECK(methods_of(ev2) == kInterleavedMethods);
  for (auto& e : ev1)
    CHECK(e.turn_id() == "turn_1");
  for (auto& e : ev2)
    CHECK(e.turn_id() == "turn_2");
  CHECK(deltas_of(ev1) == "A1A2");
  CHECK(deltas_of(ev2) == "B1B2");
}

TEST_CASE("stream_turn with two interleaved turns: concurrent consumers get their own turn",
          "[routing]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"stream_turn":{"deltas":200,"text":"t","turns":2}}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::vector<codex::Notification> ev1, ev2;
  std::string id1;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h1 = co_await t.turn("go", to);
    id1 = h1.id();
    // The second turn was not started by this client: join it by id.
    auto h2 = client.turn_handle(t.id(), "turn-2");
    auto s1 = h1.stream();
    auto s2 = h2.stream();
    auto both = drain(s1) && drain(s2);
    auto [a, b] = co_await std::move(both);
    ev1 = std::move(a);
    ev2 = std::move(b);
    co_await client.close();
  }());
  CHECK(id1 == "turn-1");
  for (auto* evs : {&ev1, &ev2}) {
    REQUIRE(evs->size() == 205);  // N + 5 notifications per turn
    CHECK(evs->front().method == "turn/started");
    CHECK(evs->back().method == "turn/completed");
    CHECK(deltas_of(*evs) == std::string(200, 't'));
  }
  for (auto& e : ev1)
    CHECK(e.turn_id() == "turn-1");
  for (auto& e : ev2)
    CHECK(e.turn_id() == "turn-2");
}

TEST_CASE("turn events sent before the turn/start response are all delivered", "[routing]") {
  Watchdog wd;
  // The whole turn, turn/completed included, precedes the response (the Python SDK's
  // lost-early-completion bug).
  Fake fake(R"({"on":{"turn/start":[{"turn":{}},{"default":"response"}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  codex::TurnResult r;
  std::vector<codex::Notification> evs;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    r = co_await t.run("first", to);
    auto h = co_await t.turn("second", to);
    auto s = h.stream();
    evs = co_await drain(s);
    co_await client.close();
  }());
  CHECK(r.id == "turn_1");
  CHECK(r.status == codex::TurnStatus::completed);
  CHECK(r.final_response == std::optional<std::string>("Hello world"));
  REQUIRE(r.items.size() == 2);
  CHECK(r.items[0].at("type") == "userMessage");
  CHECK(r.items[1].at("type") == "agentMessage");
  REQUIRE(r.usage);
  CHECK(r.usage->total.input_tokens == 140);
  CHECK(methods_of(evs) == kTurnMethods);
  for (auto& e : evs)
    CHECK(e.turn_id() == "turn_2");
  CHECK(deltas_of(evs) == "Hello world");
}

TEST_CASE("sync client: a turn completed before the turn/start response is delivered",
          "[routing][sync]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[{"turn":{"deltas":["ear","ly"]}},{"default":"response"}]}})");
  codex::Codex client(fake.config());
  auto t = client.thread_start();
  auto r = t.run("x");
  CHECK(r.status == codex::TurnStatus::completed);
  CHECK(r.final_response == std::optional<std::string>("early"));
  auto h = t.turn("y");
  std::vector<std::string> methods;
  for (const auto& ev : h.stream())
    methods.push_back(ev.method);
  CHECK(methods == kTurnMethods);
}

TEST_CASE("two consumers of one turn each see every event", "[routing]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::vector<codex::Notification> a, b, c;
  std::optional<codex::Notification> first_of_closed, after_close;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("x", to);
    auto s1 = h.stream();
    auto s2 = h.stream();
    a = co_await drain(s1);
    b = co_await drain(s2);

    // Closing one consumer does not end the other.
    auto h2 = co_await t.turn("y", to);
    auto s3 = h2.stream();
    auto s4 = h2.stream();
    first_of_closed = co_await s3.next(ms(10000));
    s3.close();
    after_close = co_await s3.next(ms(1000));
    c = co_await drain(s4);
    co_await client.close();
  }());
  CHECK(methods_of(a) == kTurnMethods);
  CHECK(methods_of(b) == kTurnMethods);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    CHECK(a[i].params == b[i].params);
  REQUIRE(first_of_closed);
  CHECK(first_of_closed->method == "turn/started");
  CHECK(!after_close);
  CHECK(methods_of(c) == kTurnMethods);
  for (auto& e : c)
    CHECK(e.turn_id() == "turn_2");
}

TEST_CASE("client-level events (no turn id) reach next_event in order", "[routing]") {
  Watchdog wd;
  Fake fake(R"({"on":{"thread/start":[{"default":true},
      {"notify":"custom/event","params":{"k":1}},
      {"request":"item/tool/requestUserInput","params":{"threadId":"$threadId","itemId":"q1",
        "questions":[]}},
      {"await_reply":true,"timeout_ms":10000},
      {"notify":"test/reply","params":{"reply":"$reply"}}]}})");
  auto cfg = fake.config();
  cfg.approval_handler = codex::decline_all();  // the fail-closed default is tested elsewhere
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  std::vector<codex::Notification> evs;
  std::optional<codex::TimeoutError> timeout;
  json::object models;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    (void)co_await client.thread_start(so);
    for (int i = 0; i < 5; ++i)
      evs.push_back(co_await client.next_event(ms(10000)));
    timeout = co_await thrown<codex::TimeoutError>(client.next_event(ms(100)));
    codex::ModelsOptions mo;
    models = co_await client.models(mo);  // still usable after the timeout
    co_await client.close();
  }());
  REQUIRE(evs.size() == 5);
  CHECK(evs[0].method == "remoteControl/status/changed");
  CHECK(evs[1].method == "thread/started");
  CHECK(evs[1].params.at("thread").at("id") == "thr_1");
  CHECK(evs[2].method == "custom/event");
  CHECK(evs[2].params == O(R"({"k":1})"));
  CHECK(!evs[2].is_request());
  // A server request without a turn is a client-level event with `request` set.
  CHECK(evs[3].method == "item/tool/requestUserInput");
  REQUIRE(evs[3].is_request());
  CHECK(evs[3].request.request().kind == codex::ServerRequestKind::user_input);
  CHECK(evs[3].request.request().thread_id == "thr_1");
  CHECK(evs[3].request.request().item_id == "q1");
  CHECK(evs[3].request.done());  // answered by the handler
  CHECK(evs[4].method == "test/reply");
  CHECK(evs[4].params.at("reply").at("result") == J(R"({"answers":{}})"));
  for (auto& e : evs)
    CHECK(e.turn_id().empty());
  REQUIRE(timeout);
  CHECK(models.contains("data"));
}

TEST_CASE("the client event queue is bounded and counts what it drops", "[routing][limits]") {
  Watchdog wd;
  const std::string pad(1000, 'p');
  Fake fake(R"({"on":{
      "test/flood":[{"repeat":1000,"actions":[{"notify":"flood/event","params":{"i":"$i"}}]},
                    {"respond":{}}],
      "test/bigflood":[{"repeat":60000,"actions":[{"notify":"flood/big","params":{"i":"$i",
                       "pad":")" +
            pad + R"("}}]},{"respond":{}}]}})");
  auto cfg = fake.config();
  cfg.limits.max_client_events = 8;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), cfg);
  std::size_t dropped_after_start = 0, dropped_after_flood = 0, dropped_after_big = 0;
  std::vector<codex::Notification> kept, kept_big;
  std::optional<codex::TimeoutError> empty;
  std::size_t heap_before = 0, heap_after = 0;
  run_async(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await client.start();
        codex::ModelsOptions mo;
        (void)co_await client.models(mo);  // the initialize notification has arrived by now
        dropped_after_start = client.dropped_events();
        (void)co_await client.request("test/flood", json::object());
        dropped_after_flood = client.dropped_events();
        for (int i = 0; i < 8; ++i)
          kept.push_back(co_await client.next_event(ms(5000)));
        empty = co_await thrown<codex::TimeoutError>(client.next_event(ms(50)));

        // 60k events of 1 KB nobody reads: memory stays bounded.
        heap_before = heap_in_use();
        (void)co_await client.request("test/bigflood", json::object());
        heap_after = heap_in_use();
        dropped_after_big = client.dropped_events();
        for (int i = 0; i < 8; ++i)
          kept_big.push_back(co_await client.next_event(ms(5000)));
        co_await client.close();
      }(),
      ms(60000));
  CHECK(dropped_after_start == 0);
  // 1 (remoteControl/status/changed) + 1000 events, 8 kept.
  CHECK(dropped_after_flood == 1001 - 8);
  REQUIRE(kept.size() == 8);
  for (int i = 0; i < 8; ++i) {
    CHECK(kept[i].method == "flood/event");
    CHECK(kept[i].params.at("i") == 992 + i);  // the newest are kept, in order
  }
  REQUIRE(empty);
  CHECK(dropped_after_big == dropped_after_flood + 60000 - 8);
  REQUIRE(kept_big.size() == 8);
  CHECK(kept_big.back().params.at("i") == 59999);
  INFO("heap in use before " << heap_before << " B, after " << heap_after << " B");
  CHECK(heap_after < heap_before + 16u * 1024u * 1024u);  // 60 MB went through
}

namespace {

json::object agent_item(const std::string& id, const std::string& text, json::value phase,
                        bool with_phase = true) {
  json::object it{{"type", "agentMessage"}, {"id", id}, {"text", text}};
  if (with_phase) it["phase"] = std::move(phase);
  return it;
}

json::object completed_action(json::object item, const std::string& turn = "$turnId") {
  return json::object{
      {"notify", "item/completed"},
      {"params",
       json::object{{"threadId", "$threadId"}, {"turnId", turn}, {"item", std::move(item)}}}};
}

// One turn/start reaction: the response, the given items, optional usage, then the completion.
json::array turn_reaction(std::vector<json::object> item_actions, bool usage = false) {
  json::array r;
  r.push_back(json::object{{"default", "response"}});
  for (auto& a : item_actions)
    r.push_back(std::move(a));
  if (usage) {
    r.push_back(O(R"({"notify":"thread/tokenUsage/updated","params":{"threadId":"$threadId",
        "turnId":"$turnId","tokenUsage":{"total":{"totalTokens":1,"inputTokens":1,
        "cachedInputTokens":0,"cacheWriteInputTokens":0,"outputTokens":0,
        "reasoningOutputTokens":0},"last":{"totalTokens":1,"inputTokens":1,
        "cachedInputTokens":0,"cacheWriteInputTokens":0,"outputTokens":0,
        "reasoningOutputTokens":0},"modelContextWindow":null}}})"));
    r.push_back(O(R"({"notify":"thread/tokenUsage/updated","params":{"threadId":"$threadId",
        "turnId":"$turnId","tokenUsage":{"total":{"totalTokens":300,"inputTokens":200,
        "cachedInputTokens":50,"cacheWriteInputTokens":7,"outputTokens":100,
        "reasoningOutputTokens":30},"last":{"totalTokens":30,"inputTokens":20,
        "cachedInputTokens":5,"cacheWriteInputTokens":1,"outputTokens":10,
        "reasoningOutputTokens":3},"modelContextWindow":272000}}})"));
  }
  r.push_back(O(R"({"notify":"turn/completed","params":{"threadId":"$threadId",
      "turn":{"id":"$turnId","items":[],"itemsView":"notLoaded","status":"completed",
      "error":null,"startedAt":1700000000,"completedAt":1700000005,"durationMs":5000}}})"));
  return r;
}

}  // namespace

TEST_CASE("final_response rule and TurnResult fields", "[routing][result]") {
  Watchdog wd;
  json::array reactions;
  json::object user{
      {"type", "userMessage"}, {"id", "u1"}, {"content", J(R"([{"type":"text","text":"q"}])")}};
  // 1: final_answer wins over a later phase-less message; usage (the latest wins); another
  //    turn's item is not collected.
  reactions.push_back(turn_reaction(
      {completed_action(user), completed_action(agent_item("a1", "FINAL", "final_answer")),
       completed_action(agent_item("x", "other turn", nullptr), "turn_99"),
       completed_action(agent_item("a2", "later", nullptr))},
      true));
  // 2: no final_answer: the latest phase-less one (phase null or missing); commentary skipped.
  reactions.push_back(
      turn_reaction({completed_action(agent_item("b1", "first", nullptr)),
                     completed_action(agent_item("b2", "second", nullptr, false)),
                     completed_action(agent_item("b3", "thinking", "commentary"))}));
  // 3: only commentary: no answer.
  reactions.push_back(
      turn_reaction({completed_action(agent_item("c1", "thinking", "commentary"))}));
  // 4: an empty final answer is an answer.
  reactions.push_back(turn_reaction({completed_action(agent_item("d1", "x", nullptr)),
                                     completed_action(agent_item("d2", "", "final_answer"))}));
  // 5: no agent message at all.
  reactions.push_back(turn_reaction({completed_action(user)}));
  json::object script{{"on", json::object{{"turn/start", std::move(reactions)}}}};
  Fake fake(json::serialize(script));

  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::vector<codex::TurnResult> rs;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    for (int i = 0; i < 5; ++i)
      rs.push_back(co_await t.run("q", to));
    co_await client.close();
  }());
  REQUIRE(rs.size() == 5);

  const auto& r = rs[0];
  CHECK(r.id == "turn_1");
  CHECK(r.status == codex::TurnStatus::completed);
  CHECK(!r.error);
  CHECK(r.started_at == std::optional<std::int64_t>(1700000000));
  CHECK(r.completed_at == std::optional<std::int64_t>(1700000005));
  CHECK(r.duration_ms == std::optional<std::int64_t>(5000));
  CHECK(r.final_response == std::optional<std::string>("FINAL"));
  REQUIRE(r.items.size() == 3);
  CHECK(r.items[0] == user);
  CHECK(r.items[1] == agent_item("a1", "FINAL", "final_answer"));
  CHECK(r.items[2] == agent_item("a2", "later", nullptr));
  REQUIRE(r.usage);
  CHECK(r.usage->total.total_tokens == 300);
  CHECK(r.usage->total.input_tokens == 200);
  CHECK(r.usage->total.cached_input_tokens == 50);
  CHECK(r.usage->total.cache_write_input_tokens == 7);
  CHECK(r.usage->total.output_tokens == 100);
  CHECK(r.usage->total.reasoning_output_tokens == 30);
  CHECK(r.usage->last.total_tokens == 30);
  CHECK(r.usage->last.input_tokens == 20);
  CHECK(r.usage->last.cached_input_tokens == 5);
  CHECK(r.usage->last.cache_write_input_tokens == 1);
  CHECK(r.usage->last.output_tokens == 10);
  CHECK(r.usage->last.reasoning_output_tokens == 3);
  CHECK(r.usage->model_context_window == std::optional<std::int64_t>(272000));
  CHECK(r.turn.at("id") == "turn_1");
  CHECK(r.turn.at("status") == "completed");

  CHECK(rs[1].final_response == std::optional<std::string>("second"));
  CHECK(rs[1].items.size() == 3);
  CHECK(!rs[1].usage);
  CHECK(!rs[2].final_response);
  CHECK(rs[3].final_response == std::optional<std::string>(""));
  CHECK(!rs[4].final_response);
  CHECK(rs[4].items.size() == 1);
  for (std::size_t i = 0; i < rs.size(); ++i)
    CHECK(rs[i].id == "turn_" + std::to_string(i + 1));
}

TEST_CASE("sync client: two turns streamed from two threads at once", "[routing][sync]") {
  Watchdog wd;
  Fake fake(kInterleaved);
  codex::Codex client(fake.config());
  auto t1 = client.thread_start();
  auto t2 = client.thread_start();
  auto h1 = t1.turn("a");
  auto h2 = t2.turn("b");
  std::vector<std::string> m1, m2, ids1, ids2;
  std::string d1, d2;
  std::exception_ptr err;
  std::thread other([&] {
    try {
      for (const auto& ev : h1.stream()) {
        m1.push_back(ev.method);
        ids1.emplace_back(ev.turn_id());
        if (ev.method == "item/agentMessage/delta") d1 += std::string(ev.delta());
      }
    } catch (...) {
      err = std::current_exception();
    }
  });
  for (const auto& ev : h2.stream()) {
    m2.push_back(ev.method);
    ids2.emplace_back(ev.turn_id());
    if (ev.method == "item/agentMessage/delta") d2 += std::string(ev.delta());
  }
  other.join();
  REQUIRE(!err);
  CHECK(m1 == kInterleavedMethods);
  CHECK(m2 == kInterleavedMethods);
  for (auto& id : ids1)
    CHECK(id == "turn_1");
  for (auto& id : ids2)
    CHECK(id == "turn_2");
  CHECK(d1 == "A1A2");
  CHECK(d2 == "B1B2");
  client.close();
}
