// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Unit tests of the engine through AsyncCodex, with no process: an in-memory transport lets each
// test script the server's messages and read what the client wrote (engine_harness.hpp). Every
// test runs its coroutine through `run_async` (test/support/bounded_run.hpp), so a hang fails the
// test instead of blocking.

#include "engine_harness.hpp"

// ================================================================ tests

TEST_CASE("engine: initialize handshake, then initialized, then requests", "[engine]") {
  Harness h;
  h.config.client_name = "unit_client";
  h.config.client_title = "Unit Client";
  h.config.client_version = "9.8.7";
  h.config.experimental_api = false;
  h.config.opt_out_notification_methods = {"item/agentMessage/delta"};
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    REQUIRE_THROWS_AS(client.metadata(), codex::CodexError);
    REQUIRE(peer.transports_made == 0);  // lazy: nothing before the first call

    // Two concurrent starts and a request: one transport, one initialize.
    auto s1 = spawn(peer, as_bool(client.start()));
    auto s2 = spawn(peer, as_bool(client.start()));
    auto req = spawn(peer, client.request("config/read", nullptr));

    auto init = co_await peer.next_write();
    INFO("initialize: " << json::serialize(init));
    REQUIRE(init.size() == 3);  // id, method, params: no "jsonrpc" member
    REQUIRE(init.at("method") == "initialize");
    REQUIRE(init.at("id").is_int64());
    REQUIRE(init.at("params") == json::parse(R"({
      "clientInfo":{"name":"unit_client","title":"Unit Client","version":"9.8.7"},
      "capabilities":{"experimentalApi":false,
                      "optOutNotificationMethods":["item/agentMessage/delta"]}})"));
    REQUIRE(peer.transports_made == 1);
    REQUIRE(peer.opened);
    REQUIRE_FALSE(s1->done);

    json::object result;
    result["userAgent"] = "my_client/0.169.0 (Debian 12.0.0; x86_64) xterm (my_client; 0.1.0)";
    result["codexHome"] = "/root/.codex";
    peer.reply(init.at("id"), json::serialize(result));

    // `initialized` comes right after the response, before any other request.
    auto initialized = co_await peer.next_write();
    REQUIRE(json::value(initialized) == json::parse(R"({"method":"initialized"})"));
    auto r = co_await peer.expect_request("config/read");
    REQUIRE_FALSE(r.contains("params"));  // null params: no params key
    REQUIRE(r.at("id") != init.at("id"));
    peer.reply(r.at("id"), R"({"config":{}})");

    co_await wait(peer, s1);
    co_await wait(peer, s2);
    co_await wait(peer, req);
    REQUIRE_FALSE(s1->error);
    REQUIRE_FALSE(s2->error);
    REQUIRE_FALSE(req->error);
    REQUIRE(*req->value == json::parse(R"({"config":{}})"));
    REQUIRE(peer.transports_made == 1);

    const auto& md = client.metadata();
    CHECK(md.server_version == "0.169.0");
    CHECK(md.server_name == "codex");
    CHECK(md.codex_home == std::optional<std::string>("/root/.codex"));

    // A second start() is a no-op.
    co_await client.start();
    CHECK(peer.written.size() == 3);
  });
}

TEST_CASE("engine: an initialize result without metadata fails start with ProtocolError",
          "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    auto s = spawn(peer, as_bool(client.start()));
    auto init = co_await peer.expect_request("initialize");
    peer.reply(init.at("id"), R"({"codexHome":"/h"})");  // neither userAgent nor serverInfo
    co_await wait(peer, s);
    REQUIRE(holds<codex::ProtocolError>(s->error));
    CHECK(peer.killed);
    // The client is closed for good: later calls fail without a new transport.
    std::exception_ptr later;
    try {
      co_await client.request("thread/list", nullptr);
    } catch (...) {
      later = std::current_exception();
    }
    REQUIRE(holds<codex::CodexError>(later));
    CHECK(peer.transports_made == 1);
    CHECK(peer.written.size() == 1);  // no `initialized`, nothing else
  });
}

TEST_CASE("engine: responses are matched by id, in any order", "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);

    json::value pa = json::parse(R"({"n":1})");
    auto a = spawn(peer, client.request("test/a", pa));
    auto b = spawn(peer, client.request("test/b", nullptr));
    auto c = spawn(peer, client.request("test/c", nullptr));
    auto d = spawn(peer, client.request("test/d", nullptr));
    auto wa = co_await peer.expect_request("test/a");
    auto wb = co_await peer.expect_request("test/b");
    auto wc = co_await peer.expect_request("test/c");
    auto wd = co_await peer.expect_request("test/d");
    REQUIRE(wa.at("params") == pa);
    REQUIRE(wa.at("id") != wb.at("id"));
    REQUIRE(wb.at("id") != wc.at("id"));
    REQUIRE(wc.at("id") != wd.at("id"));

    // Noise first: an unknown id, a foreign (string) id, junk lines, a non-object.
    peer.reply(json::value(987654), R"({"for":"nobody"})");
    peer.reply(json::value("1"), R"({"for":"string id"})");
    peer.send_raw("this is not json\n[1,2,3]\n{\"neither\":true}\n");
    // Then the answers, out of order; d gets an error.
    peer.reply(wc.at("id"), R"({"for":"c"})");
    peer.reply_error(wd.at("id"), -32001, "Server overloaded; retry later.");
    peer.reply(wa.at("id"), R"({"for":"a"})");
    peer.reply(wb.at("id"), R"({"for":"b"})");

    co_await wait(peer, a);
    co_await wait(peer, b);
    co_await wait(peer, c);
    co_await wait(peer, d);
    INFO("a: " << what_of(a->error) << "; b: " << what_of(b->error)
               << "; c: " << what_of(c->error));
    REQUIRE(*a->value == json::parse(R"({"for":"a"})"));
    REQUIRE(*b->value == json::parse(R"({"for":"b"})"));
    REQUIRE(*c->value == json::parse(R"({"for":"c"})"));
    REQUIRE(holds<codex::ServerBusyError>(d->error));
    CHECK(what_of(d->error) == "test/d: JSON-RPC error -32001: Server overloaded; retry later.");

    // Still usable.
    auto e = spawn(peer, client.request("test/e", nullptr));
    auto we = co_await peer.expect_request("test/e");
    peer.reply(we.at("id"), "[1]");
    co_await wait(peer, e);
    REQUIRE(*e->value == json::parse("[1]"));
  });
}

TEST_CASE("engine: a malformed error response is a ProtocolError", "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    auto a = spawn(peer, client.request("test/a", nullptr));
    auto wa = co_await peer.expect_request("test/a");
    json::object m;
    m["id"] = wa.at("id");
    m["error"] = "boom";
    peer.send(m);
    co_await wait(peer, a);
    REQUIRE(holds<codex::ProtocolError>(a->error));
  });
}

TEST_CASE("engine: an oversize line is skipped and the connection goes on", "[engine]") {
  Harness h;
  h.config.limits.max_line_bytes = 1024;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    auto a = spawn(peer, client.request("test/a", nullptr));
    auto wa = co_await peer.expect_request("test/a");
    json::object big;
    big["id"] = wa.at("id");
    big["result"] = std::string(5000, 'x');
    // The oversize response arrives split over several reads; it must be skipped whole.
    std::string line = json::serialize(big) + "\n";
    for (std::size_t at = 0; at < line.size(); at += 700)
      peer.send_raw(line.substr(at, 700));
    peer.reply(wa.at("id"), R"("small")");
    co_await wait(peer, a);
    REQUIRE_FALSE(a->error);
    REQUIRE(*a->value == "small");
  });
}

TEST_CASE("engine: a timed-out request throws TimeoutError and its late response is dropped",
          "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);

    auto slow = spawn(peer, client.request("test/slow", nullptr, {.timeout = 50ms}));
    auto ws = co_await peer.expect_request("test/slow");
    co_await wait(peer, slow);
    INFO(what_of(slow->error));
    REQUIRE(holds<codex::TimeoutError>(slow->error));
    try {
      std::rethrow_exception(slow->error);
    } catch (const codex::TimeoutError& e) {
      CHECK(e.method() == "test/slow");
      CHECK(e.timeout() == 50ms);
    }

    // The late response is dropped; the next call gets its own answer.
    peer.reply(ws.at("id"), R"({"late":true})");
    auto next = spawn(peer, client.request("test/next", nullptr));
    auto wn = co_await peer.expect_request("test/next");
    REQUIRE(wn.at("id") != ws.at("id"));
    peer.reply(wn.at("id"), R"({"next":true})");
    co_await wait(peer, next);
    REQUIRE_FALSE(next->error);
    REQUIRE(*next->value == json::parse(R"({"next":true})"));
  });
}

TEST_CASE("engine: the default request timeout comes from the config", "[engine]") {
  SECTION("a call without a per-call timeout") {
    Harness h;
    h.config.request_timeout = 40ms;
    h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
      Peer& peer = *h.peer;
      co_await start(peer, client);
      auto slow = spawn(peer, client.request("test/slow", nullptr));
      co_await peer.expect_request("test/slow");
      co_await wait(peer, slow);
      INFO(what_of(slow->error));
      REQUIRE(holds<codex::TimeoutError>(slow->error));
      try {
        std::rethrow_exception(slow->error);
      } catch (const codex::TimeoutError& e) {
        CHECK(e.timeout() == 40ms);
      }
    });
  }
  SECTION("the handshake") {
    Harness h;
    h.config.request_timeout = 40ms;
    h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
      Peer& peer = *h.peer;
      auto s = spawn(peer, as_bool(client.start()));
      co_await peer.expect_request("initialize");
      co_await wait(peer, s);
      INFO(what_of(s->error));
      REQUIRE(holds<codex::TimeoutError>(s->error));
    });
  }
}

TEST_CASE("engine: cancelling a pending call throws operation_aborted, the client stays usable",
          "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);

    asio::cancellation_signal cancel;
    auto hang = spawn(peer, client.request("test/hang", nullptr), cancel.slot());
    auto wh = co_await peer.expect_request("test/hang");
    REQUIRE_FALSE(hang->done);
    cancel.emit(asio::cancellation_type::terminal);
    co_await wait(peer, hang);
    INFO(what_of(hang->error));
    REQUIRE(is_operation_aborted(hang->error));

    // Its late response is dropped; the next call works.
    peer.reply(wh.at("id"), R"({"late":true})");
    auto next = spawn(peer, client.request("test/next", nullptr));
    auto wn = co_await peer.expect_request("test/next");
    peer.reply(wn.at("id"), R"({"ok":1})");
    co_await wait(peer, next);
    REQUIRE(*next->value == json::parse(R"({"ok":1})"));

    // Cancelling a next_event() wait works the same way.
    asio::cancellation_signal cancel_event;
    auto ev = spawn(peer, client.next_event(), cancel_event.slot());
    cancel_event.emit(asio::cancellation_type::terminal);
    co_await wait(peer, ev);
    REQUIRE(is_operation_aborted(ev->error));
    peer.notification("account/updated", R"({"authMode":"apikey"})");
    auto n = co_await client.next_event(2000ms);
    CHECK(n.method == "account/updated");
  });
}

TEST_CASE("engine: turn events that arrive before the turn/start response are kept", "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    codex::AsyncThread thread = co_await start_thread(peer, client);
    REQUIRE(thread.id() == "th-1");

    auto turn = spawn(peer, thread.turn("hello"));
    auto wt = co_await peer.expect_request("turn/start");
    REQUIRE(wt.at("params") ==
            json::parse(R"({"threadId":"th-1","input":[{"type":"text","text":"hello"}]})"));

    // The whole turn, then another turn's events, then a client-level event, all before the
    // response; one read carries several of them.
    peer.send_raw(event("turn/started", R"({"threadId":"th-1","turn":{"id":"tu-1"}})") +
                  event("item/agentMessage/delta",
                        R"({"threadId":"th-1","turnId":"tu-1","itemId":"m1","delta":"Hel"})"));
    peer.send_raw(event("item/agentMessage/delta",
                        R"({"threadId":"th-1","turnId":"tu-other","itemId":"x","delta":"NO"})"));
    peer.send_raw(event("item/completed", R"({"threadId":"th-1","turnId":"tu-1",
        "item":{"type":"agentMessage","id":"m1","text":"Hello","phase":"final_answer"}})"));
    peer.send_raw(event("thread/tokenUsage/updated", R"({"threadId":"th-1","turnId":"tu-1",
        "tokenUsage":{"total":{"totalTokens":10,"inputTokens":7,"outputTokens":3},
                      "last":{"totalTokens":10},"modelContextWindow":1000}})"));
    peer.send_raw(event("thread/status/changed", R"({"threadId":"th-1","status":"idle"})"));
    peer.send_raw(event("turn/completed", R"({"threadId":"th-1","turn":{"id":"tu-1",
        "status":"completed","startedAt":100,"completedAt":102,"durationMs":2000}})"));
    peer.reply(wt.at("id"), R"({"turn":{"id":"tu-1","status":"inProgress"}})");

    co_await wait(peer, turn);
    REQUIRE_FALSE(turn->error);
    codex::AsyncTurnHandle handle = std::move(*turn->value);
    REQUIRE(handle.id() == "tu-1");

    // Two consumers: a stream and collect(); each sees the whole turn.
    codex::AsyncTurnStream stream = handle.stream();
    codex::TurnResult r = co_await handle.collect();
    CHECK(r.id == "tu-1");
    CHECK(r.status == codex::TurnStatus::completed);
    CHECK(r.final_response == std::optional<std::string>("Hello"));
    REQUIRE(r.items.size() == 1);
    CHECK(r.items[0].at("id") == "m1");
    REQUIRE(r.usage.has_value());
    CHECK(r.usage->total.total_tokens == 10);
    CHECK(r.usage->model_context_window == std::optional<std::int64_t>(1000));
    CHECK(r.started_at == std::optional<std::int64_t>(100));
    CHECK(r.duration_ms == std::optional<std::int64_t>(2000));

    std::vector<std::string> methods;
    while (auto ev = co_await stream.next(2000ms)) {
      CHECK(ev->turn_id() == "tu-1");
      methods.push_back(ev->method);
    }
    CHECK(methods == std::vector<std::string>{"turn/started", "item/agentMessage/delta",
                                              "item/completed", "thread/tokenUsage/updated",
                                              "turn/completed"});
    CHECK(stream.done());

    // The client-level event went to next_event(), not to the turn.
    auto n = co_await client.next_event(2000ms);
    CHECK(n.method == "thread/status/changed");
  });
}

TEST_CASE("engine: closing one of two streams of a turn leaves the other every event", "[engine]") {
  // The router keeps a turn's only subscriber apart from its vector (TurnState::only_sub):
  // going from two subscribers to one must keep waking, and pruning for, the one left.
  Harness h;
  std::vector<std::string> first, second;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    codex::AsyncThread thread = co_await start_thread(peer, client);
    codex::AsyncTurnHandle handle = co_await start_turn(peer, thread, "tu-1");
    codex::AsyncTurnStream s1 = handle.stream();
    codex::AsyncTurnStream s2 = handle.stream();
    auto delta = [](std::string_view d) {
      return event("item/agentMessage/delta",
                   R"({"threadId":"th-1","turnId":"tu-1","itemId":"m1","delta":")" +
                       std::string(d) + R"("})");
    };
    auto text = [](const codex::Notification& ev) {
      return ev.method == "item/agentMessage/delta" ? std::string(ev.delta()) : ev.method;
    };
    peer.send_raw(event("turn/started", R"({"threadId":"th-1","turn":{"id":"tu-1"}})") +
                  delta("a"));
    // s1 reads both, s2 only the first; then s1 goes away with s2 behind it.
    for (int i = 0; i < 2; ++i) {
      auto ev = co_await s1.next(2000ms);
      REQUIRE(ev);
      first.push_back(text(*ev));
    }
    auto ev = co_await s2.next(2000ms);
    REQUIRE(ev);
    second.push_back(text(*ev));
    s1.close();
    // s2 still gets the event s1 had read, then waits (nothing buffered) and is woken for each
    // event after the close.
    ev = co_await s2.next(2000ms);
    REQUIRE(ev);
    second.push_back(text(*ev));
    auto waiting = spawn(peer, s2.next(2000ms));
    peer.send_raw(delta("b"));
    co_await wait(peer, waiting);
    REQUIRE_FALSE(waiting->error);
    REQUIRE(*waiting->value);
    second.push_back(text(**waiting->value));
    peer.send_raw(delta("c") + event("turn/completed", R"({"threadId":"th-1","turn":{"id":"tu-1",
        "status":"completed"}})"));
    while (auto more = co_await s2.next(2000ms))
      second.push_back(text(*more));
    CHECK(s2.done());
  });
  CHECK(first == std::vector<std::string>{"turn/started", "a"});
  CHECK(second == std::vector<std::string>{"turn/started", "a", "b", "c", "turn/completed"});
}

TEST_CASE("engine: a stream survives a timed-out or cancelled next()", "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    codex::AsyncThread thread = co_await start_thread(peer, client);
    auto turn = spawn(peer, thread.turn("go"));
    auto wt = co_await peer.expect_request("turn/start");
    peer.reply(wt.at("id"), R"({"turn":{"id":"tu-s","status":"inProgress"}})");
    co_await wait(peer, turn);
    REQUIRE_FALSE(turn->error);
    codex::AsyncTurnStream stream = turn->value->stream();

    std::exception_ptr timed_out;
    try {
      co_await stream.next(20ms);
    } catch (...) {
      timed_out = std::current_exception();
    }
    INFO(what_of(timed_out));
    REQUIRE(holds<codex::TimeoutError>(timed_out));

    asio::cancellation_signal cancel;
    auto waiting = spawn(peer, stream.next(), cancel.slot());
    REQUIRE_FALSE(waiting->done);
    cancel.emit(asio::cancellation_type::terminal);
    co_await wait(peer, waiting);
    REQUIRE(is_operation_aborted(waiting->error));

    peer.send_raw(event("item/agentMessage/delta",
                        R"({"threadId":"th-1","turnId":"tu-s","itemId":"m","delta":"x"})") +
                  event("turn/completed",
                        R"({"threadId":"th-1","turn":{"id":"tu-s","status":"interrupted"}})"));
    auto first = co_await stream.next(2000ms);
    REQUIRE(first.has_value());
    CHECK(first->delta() == "x");
    auto last = co_await stream.next(2000ms);
    REQUIRE(last.has_value());
    CHECK(last->method == "turn/completed");
    auto end = co_await stream.next(2000ms);
    CHECK_FALSE(end.has_value());
    CHECK(stream.done());
  });
}

TEST_CASE("engine: the client event queue is bounded and drops the oldest", "[engine]") {
  Harness h;
  h.config.limits.max_client_events = 3;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    std::string chunk;
    for (int i = 0; i < 5; ++i)
      chunk += event("warning", R"({"message":"w)" + std::to_string(i) + R"("})");
    peer.send_raw(chunk);
    const std::function<bool()> all_read = [&] { return peer.inbound.empty(); };
    co_await peer.until(all_read);  // one read routes them all
    CHECK(client.dropped_events() == 2);
    for (int i = 2; i < 5; ++i) {
      auto n = co_await client.next_event(2000ms);
      CHECK(n.method == "warning");
      CHECK(n.params.at("message") == json::value("w" + std::to_string(i)));
    }
    std::exception_ptr empty;
    try {
      co_await client.next_event(20ms);
    } catch (...) {
      empty = std::current_exception();
    }
    REQUIRE(holds<codex::TimeoutError>(empty));
  });
}

TEST_CASE("engine: unread turn events stop the reader until a consumer catches up", "[engine]") {
  Harness h;
  h.config.limits.max_buffered_turn_events = 4;
  h.run(
      [&](codex::AsyncCodex& client) -> asio::awaitable<void> {
        Peer& peer = *h.peer;
        co_await start(peer, client);
        codex::AsyncThread thread = co_await start_thread(peer, client);
        codex::AsyncTurnHandle handle = co_await start_turn(peer, thread, "tu-bp");

        constexpr int kDeltas = 20;
        for (int i = 0; i < kDeltas; ++i)
          peer.send_raw(event("item/agentMessage/delta",
                              R"({"threadId":"th-1","turnId":"tu-bp","itemId":"m","delta":"d)" +
                                  std::to_string(i) + R"("})"));
        peer.send_raw(event("turn/completed",
                            R"({"threadId":"th-1","turn":{"id":"tu-bp","status":"completed"}})"));
        peer.send_raw(event("warning", R"({"message":"marker"})"));
        const std::size_t queued = kDeltas + 2;

        // The reader takes at least the allowed events, then must stop: nothing reads them.
        const std::function<bool()> some_read = [&] { return peer.inbound.size() <= queued - 4; };
        co_await peer.until(some_read);
        // Not a synchronisation: a window in which a reader that ignores the limit would drain
        // everything (it pauses in 50 ms polls).
        asio::steady_timer window(peer.executor(), 200ms);
        co_await window.async_wait(use_awaitable);
        INFO("unread chunks after the window: " << peer.inbound.size());
        CHECK(peer.inbound.size() >= queued - 7);

        // Reading the turn lets the reader go on; every event arrives, in order.
        auto stream = handle.stream();
        int i = 0;
        while (auto ev = co_await stream.next(3000ms)) {
          if (ev->method == "turn/completed") break;
          CHECK(ev->delta() == "d" + std::to_string(i));
          ++i;
        }
        CHECK(i == kDeltas);
        auto n = co_await client.next_event(3000ms);
        CHECK(n.params.at("message") == "marker");
      },
      10s);
}

TEST_CASE("engine: a caller waiting on the server keeps the reader going past the limit",
          "[engine]") {
  Harness h;
  h.config.limits.max_buffered_turn_events = 4;
  h.run(
      [&](codex::AsyncCodex& client) -> asio::awaitable<void> {
        Peer& peer = *h.peer;
        co_await start(peer, client);
        codex::AsyncThread thread = co_await start_thread(peer, client);
        // Two turns: the first is held and not read while the second is read.
        std::vector<codex::AsyncTurnHandle> handles;
        for (const char* id : {"tu-held", "tu-read"})
          handles.push_back(co_await start_turn(peer, thread, id));
        auto delta = [](const char* turn, int i) {
          return event("item/agentMessage/delta", std::string(R"({"threadId":"th-1","turnId":")") +
                                                      turn + R"(","itemId":"m","delta":"d)" +
                                                      std::to_string(i) + R"("})");
        };
        constexpr int kHeld = 40;  // ten times the limit, nobody reads them yet
        for (int i = 0; i < kHeld; ++i)
          peer.send_raw(delta("tu-held", i));
        peer.send_raw(delta("tu-read", 0));
        peer.send_raw(event("turn/completed",
                            R"({"threadId":"th-1","turn":{"id":"tu-read","status":"completed"}})"));

        // Reading the second turn needs the lines behind the held turn's backlog: the reader
        // must go on past the limit while this stream waits. (With a hard limit it would wait
        // here until the timeout.)
        auto second = handles[1].stream();
        auto first_ev = co_await second.next(3000ms);
        REQUIRE(first_ev);
        CHECK(first_ev->delta() == "d0");
        auto end = co_await second.next(3000ms);
        REQUIRE(end);
        CHECK(end->method == "turn/completed");

        // A request waiting for its response does the same.
        auto req = spawn(peer, client.request("test/ping", nullptr));
        auto ping = co_await peer.expect_request("test/ping");
        for (int i = kHeld; i < 2 * kHeld; ++i)
          peer.send_raw(delta("tu-held", i));
        peer.reply(ping.at("id"), R"({"pong":true})");
        co_await wait(peer, req);
        REQUIRE(req->value);
        CHECK(*req->value == json::parse(R"({"pong":true})"));

        // The held turn lost nothing.
        auto held = handles[0].stream();
        for (int i = 0; i < 2 * kHeld; ++i) {
          auto ev = co_await held.next(3000ms);
          REQUIRE(ev);
          CHECK(ev->delta() == "d" + std::to_string(i));
        }
      },
      10s);
}

TEST_CASE(
    "engine: a consumer whose completion handler throws does not strand the others woken with it",
    "[engine]") {
  // Consumers woken by one read are resumed one after another by one posted handler
  // (Engine::flush_wakes). When one of them ends and its co_spawn completion handler throws, the
  // exception leaves run() (as from any handler), and the consumer woken with it must still get
  // its event. (The handler that throws out of a resume itself is the waiter test's.)
  struct Marker {};
  Harness h;
  auto client = std::make_unique<codex::AsyncCodex>(h.ioc.get_executor(), h.config);
  Peer& peer = *h.peer;
  auto setup = [&]() -> asio::awaitable<std::vector<codex::AsyncTurnHandle>> {
    co_await start(peer, *client);
    codex::AsyncThread thread = co_await start_thread(peer, *client);
    std::vector<codex::AsyncTurnHandle> handles;
    for (const char* id : {"tu-a", "tu-b"})
      handles.push_back(co_await start_turn(peer, thread, id));
    co_return handles;
  };
  auto handles = run_async(h.ioc, setup(), 5s);
  auto read_one = [](codex::AsyncTurnStream s) -> asio::awaitable<std::string> {
    auto ev = co_await s.next(5000ms);
    co_return ev ? std::string(ev->delta()) : std::string("<end>");
  };
  asio::co_spawn(h.ioc, read_one(handles[0].stream()),
                 [](std::exception_ptr, std::string) { throw Marker{}; });
  std::optional<std::string> second;
  asio::co_spawn(h.ioc, read_one(handles[1].stream()),
                 [&second](std::exception_ptr e, std::string v) {
                   second = e ? std::string("<error>") : std::move(v);
                 });
  h.ioc.poll();  // both consumers park: nothing is buffered yet
  REQUIRE_FALSE(second);
  // One chunk, so one read wakes both, the throwing one first.
  peer.send_raw(event("item/agentMessage/delta",
                      R"({"threadId":"th-1","turnId":"tu-a","itemId":"m","delta":"to a"})") +
                event("item/agentMessage/delta",
                      R"({"threadId":"th-1","turnId":"tu-b","itemId":"m","delta":"to b"})"));
  bool threw = false;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!second && std::chrono::steady_clock::now() < deadline) {
    try {
      h.ioc.run_one_for(20ms);
    } catch (const Marker&) {
      threw = true;
    }
  }
  CHECK(threw);
  REQUIRE(second);
  CHECK(*second == "to b");
  handles.clear();
  client.reset();
  h.ioc.restart();
  h.ioc.run_for(2s);
  CHECK(h.ioc.stopped());
}

TEST_CASE("engine: transport end fails every pending call and the failure is sticky", "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    codex::AsyncThread thread = co_await start_thread(peer, client);
    auto turn = spawn(peer, thread.turn("go"));
    auto wt = co_await peer.expect_request("turn/start");
    peer.reply(wt.at("id"), R"({"turn":{"id":"tu-x","status":"inProgress"}})");
    co_await wait(peer, turn);
    auto collecting = spawn(peer, turn->value->collect());
    auto event_wait = spawn(peer, client.next_event());

    auto a = spawn(peer, client.request("test/a", nullptr));
    auto b = spawn(peer, client.request("test/b", nullptr));
    co_await peer.expect_request("test/a");
    co_await peer.expect_request("test/b");
    REQUIRE_FALSE(a->done);

    peer.end(3, "fatal: boom\n");
    co_await wait(peer, a);
    co_await wait(peer, b);
    co_await wait(peer, collecting);
    co_await wait(peer, event_wait);
    for (auto* err : {&a->error, &b->error, &collecting->error, &event_wait->error}) {
      INFO(what_of(*err));
      REQUIRE(holds<codex::TransportClosedError>(*err));
    }
    try {
      std::rethrow_exception(a->error);
    } catch (const codex::TransportClosedError& e) {
      CHECK(e.exit_status() == std::optional<int>(3));
      CHECK(e.stderr_tail() == "fatal: boom\n");
      CHECK(std::string(e.what()).find("boom") != std::string::npos);
    }

    // Sticky: later calls fail at once, nothing is written, no new transport.
    const auto written = peer.written.size();
    std::exception_ptr later;
    try {
      co_await client.request("test/c", nullptr);
    } catch (...) {
      later = std::current_exception();
    }
    REQUIRE(holds<codex::TransportClosedError>(later));
    std::exception_ptr restart;
    try {
      co_await client.start();
    } catch (...) {
      restart = std::current_exception();
    }
    REQUIRE(holds<codex::TransportClosedError>(restart));
    CHECK(peer.written.size() == written);
    CHECK(peer.transports_made == 1);
  });
}

TEST_CASE("engine: close() fails pending calls and is final", "[engine]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    auto a = spawn(peer, client.request("test/a", nullptr));
    co_await peer.expect_request("test/a");
    co_await client.close();
    CHECK(peer.shutdown_called);
    co_await wait(peer, a);
    REQUIRE(holds<codex::TransportClosedError>(a->error));
    std::exception_ptr later;
    try {
      co_await client.request("test/b", nullptr);
    } catch (...) {
      later = std::current_exception();
    }
    REQUIRE(holds<codex::TransportClosedError>(later));
  });
}

/// Sends an approval and an unknown request, and checks the replies the client writes.
asio::awaitable<void> exchange_server_requests(Peer& peer, codex::AsyncCodex& client,
                                               std::string_view expected_decision) {
  co_await start(peer, client);
  peer.send_raw(R"({"id":77,"method":"item/commandExecution/requestApproval",)"
                R"("params":{"threadId":"th","turnId":"tu","itemId":"i","command":"rm -rf /"}})"
                "\n");
  auto approval = co_await peer.next_write();
  INFO(json::serialize(approval));
  CHECK(approval.at("id") == 77);
  CHECK(approval.at("result").at("decision") == json::string(expected_decision));

  peer.send_raw(R"({"id":"req-9","method":"vendor/unknown","params":{}})"
                "\n");
  auto unknown = co_await peer.next_write();
  INFO(json::serialize(unknown));
  CHECK(unknown.at("id") == "req-9");
  CHECK_FALSE(unknown.contains("result"));
  CHECK(unknown.at("error").at("code") == -32601);

  // A request without a turn is also a client-level event (the approval went to its turn).
  auto e1 = co_await client.next_event(2000ms);
  CHECK(e1.method == "vendor/unknown");
  REQUIRE(e1.is_request());
  CHECK(e1.request.request().id == "req-9");
  CHECK(e1.request.done());
  CHECK_FALSE(e1.request.respond(codex::ServerReply::with_result(nullptr)));  // answered

  // The connection still works.
  auto a = spawn(peer, client.request("test/after", nullptr));
  auto wa = co_await peer.expect_request("test/after");
  peer.reply(wa.at("id"), "true");
  co_await wait(peer, a);
  CHECK(*a->value == true);
}

TEST_CASE("engine: server requests are answered once, fail-closed without a handler",
          "[engine][approvals]") {
  Harness h;
  std::string decision;
  SECTION("no handler: approvals declined, unknown methods refused") {
    decision = "decline";
  }
  SECTION("an async handler that answers at once") {
    h.config.approval_handler = [](codex::ServerRequest r) -> asio::awaitable<codex::ServerReply> {
      if (r.is_approval()) co_return codex::ServerReply::decision(codex::ApprovalDecision::accept);
      co_return codex::ServerReply::refuse(r);
    };
    decision = "accept";
  }
  SECTION("an async handler that waits first") {
    h.config.approval_handler = [](codex::ServerRequest r) -> asio::awaitable<codex::ServerReply> {
      asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
      co_await t.async_wait(use_awaitable);
      if (r.is_approval())
        co_return codex::ServerReply::decision(codex::ApprovalDecision::accept_for_session);
      co_return codex::ServerReply::refuse(r);
    };
    decision = "acceptForSession";
  }
  SECTION("a plain-function handler (runs on the SDK's pool)") {
    h.config.approval_handler = [](const codex::ServerRequest& r) {
      if (r.is_approval()) return codex::ServerReply::decision(codex::ApprovalDecision::cancel);
      return codex::ServerReply::refuse(r);
    };
    decision = "cancel";
  }
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    co_await exchange_server_requests(*h.peer, client, decision);
  });
}

TEST_CASE("engine: async_retry_on_overload retries busy responses", "[engine][retry]") {
  Harness h;
  h.run([&](codex::AsyncCodex& client) -> asio::awaitable<void> {
    Peer& peer = *h.peer;
    co_await start(peer, client);
    int calls = 0;
    auto op = [&]() -> asio::awaitable<json::value> {
      ++calls;
      co_return co_await client.request("test/busy", nullptr);
    };
    const codex::RetryOptions fast{.max_attempts = 3, .initial_delay = 0ms, .max_delay = 0ms};
    auto retried = spawn(peer, codex::async_retry_on_overload(op, fast));
    for (int i = 0; i < 2; ++i) {
      auto w = co_await peer.expect_request("test/busy");
      peer.reply_error(w.at("id"), -32001, "Server overloaded; retry later.");
    }
    auto w = co_await peer.expect_request("test/busy");
    peer.reply(w.at("id"), R"({"ok":true})");
    co_await wait(peer, retried);
    INFO(what_of(retried->error));
    REQUIRE_FALSE(retried->error);
    CHECK(*retried->value == json::parse(R"({"ok":true})"));
    CHECK(calls == 3);
  });
}
