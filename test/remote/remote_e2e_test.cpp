// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Remote transports end to end: the test starts the REAL pinned `codex app-server` as a listening
// daemon (`--listen ws://127.0.0.1:PORT` with a capability token, or `--listen unix://PATH`),
// offline against the scripted model server, and drives it with `AsyncCodex` via
// `CodexConfig::endpoint`. The daemon and the waits for it are in remote_fixture.hpp (shared
// with remote_tls_test.cpp, the same over wss://).
//
// Every test is bounded (a watchdog, `run_async` deadlines, deadline-bounded readiness polls) and
// kills and reaps every process it starts. Nothing sleeps to synchronize.
#ifndef CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#endif
#include <catch2/catch.hpp>

#include <codex/codex.hpp>
#include <codex/transport.hpp>

#include "bounded_run.hpp"
#include "mock_model_server.hpp"
#include "real_codex.hpp"
#include "remote_fixture.hpp"

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

TEST_CASE("probe_ready: false when nothing listens, true on a running app-server",
          "[remote][ws][probe]") {
  World w;
  const auto closed_port = free_port();
  CHECK_FALSE(run_async(
      w.ioc, codex::probe_ready("http://127.0.0.1:" + std::to_string(closed_port), 2s), 10s));
  auto d = w.start_ws();
  CHECK(run_async(w.ioc, codex::probe_ready(w.endpoint, 5s), 10s));  // ws:// accepted too
}

TEST_CASE("ws: a full turn over WebSocket with the capability token", "[remote][ws][turn]") {
  World w;
  auto d = w.start_ws();
  w.server.enqueue(Response::message("Hello over WebSocket!", {.deltas = 3}));
  codex::AsyncCodex codex(w.ioc.get_executor(), w.client_config());
  auto body = [&]() -> asio::awaitable<std::optional<std::string>> {
    auto t = co_await codex.thread_start();
    CHECK(!t.id().empty());
    auto r = co_await t.run("Say hello");
    CHECK(r.status == codex::TurnStatus::completed);
    co_await codex.close();
    co_return r.final_response;
  };
  CHECK(run_async(w.ioc, body()) == std::optional<std::string>("Hello over WebSocket!"));
  REQUIRE(w.server.request_count() >= 1);
  CHECK(w.server.last_request().last_user_text() == std::optional<std::string>("Say hello"));
}

TEST_CASE("ws: two clients share one app-server, each with its own thread", "[remote][ws][multi]") {
  World w;
  auto d = w.start_ws();
  w.server.enqueue(Response::message("answer A"));
  w.server.enqueue(Response::message("answer B"));
  codex::CodexConfig cfg_b = w.client_config();
  cfg_b.auth_token_file.reset();
  cfg_b.auth_token = kToken;  // the same token, given inline
  codex::AsyncCodex a(w.ioc.get_executor(), w.client_config());
  codex::AsyncCodex b(w.ioc.get_executor(), cfg_b);
  auto body = [&]() -> asio::awaitable<void> {
    auto ta = co_await a.thread_start();
    auto tb = co_await b.thread_start();
    CHECK(ta.id() != tb.id());
    auto ra = co_await ta.run("question A");
    auto rb = co_await tb.run("question B");
    CHECK(ra.final_response == std::optional<std::string>("answer A"));
    CHECK(rb.final_response == std::optional<std::string>("answer B"));
    co_await a.close();
    // b still works after a left
    auto list = co_await b.thread_list();
    CHECK(list.contains("data"));
    co_await b.close();
  };
  run_async(w.ioc, body());
  auto reqs = w.server.requests();
  int model_posts = 0;
  for (auto& r : reqs)
    if (r.method == "POST") ++model_posts;
  CHECK(model_posts == 2);
}

TEST_CASE("ws: a wrong or missing token is refused with an authentication error",
          "[remote][ws][auth]") {
  World w;
  auto d = w.start_ws();
  const std::string wrong = "definitely-not-the-token-77";
  auto expect_auth_error = [&](codex::CodexConfig cfg) {
    codex::AsyncCodex codex(w.ioc.get_executor(), std::move(cfg));
    std::string what;
    bool threw = false;
    try {
      run_async(w.ioc, codex.start(), 30s);
    } catch (const codex::CodexError& e) {
      threw = true;
      what = e.what();
    }
    CHECK(threw);
    INFO("error: " << what);
    CHECK(what.find("authentication failed") != std::string::npos);
    CHECK(what.find(w.endpoint) != std::string::npos);
    CHECK(what.find(wrong) == std::string::npos);
    CHECK(what.find(kToken) == std::string::npos);
  };
  {
    codex::CodexConfig cfg = w.client_config();
    cfg.auth_token_file.reset();
    cfg.auth_token = wrong;
    expect_auth_error(std::move(cfg));
  }
  {
    codex::CodexConfig cfg = w.client_config();
    cfg.auth_token_file.reset();
    expect_auth_error(std::move(cfg));
  }
  CHECK(w.server.request_count() == 0);
}

TEST_CASE("ws: the app-server killed mid-turn fails the pending run() with TransportClosedError",
          "[remote][ws][drop]") {
  World w;
  auto d = w.start_ws();
  w.server.enqueue(Response::message("never finished", {.deltas = 4}).hold_after_deltas("mid", 1));
  codex::AsyncCodex codex(w.ioc.get_executor(), w.client_config());
  // Kills the daemon once the model stream is held mid-turn (off the io thread, no polling).
  bool held = false;
  std::thread killer([&] {
    held = w.server.wait_until_held("mid", 60s);
    d->kill_now();
  });
  auto body = [&]() -> asio::awaitable<std::string> {
    auto t = co_await codex.thread_start();
    std::string first;
    try {
      auto r = co_await t.run("start something long");
      (void)r;
      co_return std::string("run() returned");
    } catch (const codex::TransportClosedError& e) {
      first = e.what();
    }
    // Sticky: the next call fails the same way.
    bool sticky = false;
    try {
      co_await codex.thread_start();
    } catch (const codex::TransportClosedError&) {
      sticky = true;
    }
    co_return sticky ? "closed: " + first : std::string("second call succeeded");
  };
  std::string outcome;
  try {
    outcome = run_async(w.ioc, body(), 90s);
  } catch (...) {
    w.server.release("mid");
    killer.join();
    throw;
  }
  w.server.release("mid");
  killer.join();
  CHECK(held);
  INFO(outcome);
  CHECK(outcome.rfind("closed: ", 0) == 0);
}

TEST_CASE("ws: after the app-server restarts, reconnect() and thread_resume() pick up the thread",
          "[remote][ws][reconnect]") {
  World w;
  auto d = w.start_ws();
  w.server.enqueue(Response::message("first answer"));
  w.server.enqueue(Response::message("second answer"));
  codex::AsyncCodex codex(w.ioc.get_executor(), w.client_config());
  std::string thread_id, first, second;
  bool old_fails = false, dropped = false;
  std::optional<codex::AsyncThread> old;
  auto before = [&]() -> asio::awaitable<void> {
    auto t = co_await codex.thread_start();
    thread_id = t.id();
    first = (co_await t.run("Say first.")).final_response.value_or("");
    old = t;
  };
  run_async(w.ioc, before(), 60s);
  // The daemon goes away (a crash or a restart): the connection drops.
  d->kill_now();
  auto lost = [&]() -> asio::awaitable<void> {
    try {
      co_await codex.models();
    } catch (const codex::TransportClosedError&) {
      dropped = true;
    }
  };
  run_async(w.ioc, lost(), 60s);
  // It comes back on the same address, with the same CODEX_HOME (the thread is on disk).
  d = w.start_ws(w.port);
  auto after = [&]() -> asio::awaitable<void> {
    // snippet-begin: remote_reconnect
    co_await codex.reconnect();
    // Nothing is replayed: the old connection's thread handle stays failed.
    try {
      co_await old->read();
    } catch (const codex::TransportClosedError&) {
      old_fails = true;
    }
    auto t = co_await codex.thread_resume(thread_id);
    second = (co_await t.run("Say second.")).final_response.value_or("");
    // snippet-end: remote_reconnect
    co_await codex.close();
  };
  run_async(w.ioc, after(), 90s);
  CHECK(first == "first answer");
  CHECK(dropped);
  CHECK(second == "second answer");
  // The resumed thread carried its history into the new server's model request.
  CHECK(old_fails);
  std::vector<codex::testing::RecordedRequest> reqs;
  for (auto& r : w.server.requests())
    if (r.method == "POST" && r.target.rfind("/v1/responses", 0) == 0) reqs.push_back(r);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].body.find("Say first.") != std::string::npos);
}

TEST_CASE("unix: a full turn over the app-server's unix socket", "[remote][unix][turn]") {
  World w;
  const fs::path sock = w.env.root() / "app.sock";
  auto d = std::make_unique<Daemon>(w.env, "unix://" + sock.string(), std::vector<std::string>{});
  {
    bool up = run_async(w.ioc, wait_socket(sock, *d, 30s), 40s);
    INFO("daemon output:\n" << d->log());
    REQUIRE(up);
  }
  w.server.enqueue(Response::message("Hello over a unix socket!", {.deltas = 2}));
  codex::CodexConfig cfg;
  cfg.endpoint = "unix://" + sock.string();
  cfg.request_timeout = 30s;
  codex::AsyncCodex codex(w.ioc.get_executor(), cfg);
  auto body = [&]() -> asio::awaitable<std::optional<std::string>> {
    auto t = co_await codex.thread_start();
    auto r = co_await t.run("Say hello");
    co_await codex.close();
    co_return r.final_response;
  };
  CHECK(run_async(w.ioc, body()) == std::optional<std::string>("Hello over a unix socket!"));
}

TEST_CASE("endpoints: unsupported schemes are rejected before connecting", "[remote][parse]") {
  asio::io_context ioc;
  for (std::string bad : {"http://127.0.0.1:1", "ws://nohost", "unix://rel", "tcp://127.0.0.1:1",
                          "ws://127.0.0.1:99999"}) {
    codex::CodexConfig cfg;
    cfg.endpoint = bad;
    INFO(bad);
    CHECK_THROWS_AS(codex::make_endpoint_transport(ioc.get_executor(), cfg), std::invalid_argument);
  }
  codex::CodexConfig ok;
  ok.endpoint = "ws://127.0.0.1:4500";
  ok.auth_token = "secret-never-described";
  auto t = codex::make_endpoint_transport(ioc.get_executor(), ok);
  CHECK(t->describe() == "ws://127.0.0.1:4500");
  CHECK(t->exit_status() == std::nullopt);
  CHECK(t->stderr_tail().empty());
}
