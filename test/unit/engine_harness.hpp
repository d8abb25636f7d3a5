// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// The engine tests' scripted server: an in-memory transport (Peer, MemoryTransport) that lets a
// test script the server's messages and read what the client wrote, and the Harness that runs a
// test's coroutine on an io_context, bounded through `run_async` (test/support/bounded_run.hpp)
// so a hang fails the test instead of blocking. Shared by engine_test.cpp and alloc_test.cpp.
#pragma once

#include <catch2/catch.hpp>

#include "framer.hpp"

// Relative: this target does not link codex::test_bounded_run (test/support).
#include "../support/bounded_run.hpp"
#include "../support/exception_text.hpp"

#include <codex/async_codex.hpp>
#include <codex/errors.hpp>
#include <codex/retry.hpp>
#include <codex/transport.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using asio::use_awaitable;
using codex::testing::run_async;
using codex::testing::what_of;

// A named namespace: GCC warns (-Wsubobject-linkage) on a header's anonymous one.
namespace engine_harness {

// ================================================================ the scripted server side

/// The server end of an in-memory connection, shared by the test and the transport. Everything
/// runs on one io_context thread; `changed` is a timer that never expires and is cancelled to
/// wake every waiter whenever something happens (a chunk queued, a message written, an operation
/// finished).
class Peer {
 public:
  explicit Peer(asio::any_io_executor ex) : changed_(ex, asio::steady_timer::time_point::max()) {}

  asio::any_io_executor executor() { return changed_.get_executor(); }
  void notify() { changed_.cancel(); }

  /// Waits until `pred()` holds (re-checked after every change). Callers pass a named predicate:
  /// GCC 12 destroys a closure temporary in a co_await expression twice.
  asio::awaitable<void> until(const std::function<bool()>& pred) {
    while (!pred())
      co_await changed_.async_wait(asio::as_tuple(use_awaitable));
  }

  // ---- server -> client
  /// Queues raw bytes; each call is delivered by one transport read.
  void send_raw(std::string bytes) {
    inbound.push_back(std::move(bytes));
    notify();
  }
  void send(const json::object& message) { send_raw(json::serialize(message) + "\n"); }
  void reply(const json::value& id, std::string_view result_json) {
    json::object m;
    m["id"] = id;
    m["result"] = json::parse(result_json);
    send(m);
  }
  void reply_error(const json::value& id, std::int64_t code, std::string_view message) {
    json::object e;
    e["code"] = code;
    e["message"] = message;
    json::object m;
    m["id"] = id;
    m["error"] = std::move(e);
    send(m);
  }
  void notification(std::string_view method, std::string_view params_json) {
    json::object m;
    m["method"] = method;
    m["params"] = json::parse(params_json);
    send(m);
  }
  /// Ends the stream (the process "exits").
  void end(std::optional<int> status = std::nullopt, std::string tail = {}) {
    exit_status = status;
    stderr_tail = std::move(tail);
    eof = true;
    notify();
  }

  // ---- client -> server
  /// The next message the client wrote (waits for it).
  asio::awaitable<json::object> next_write() {
    const std::function<bool()> available = [this] { return taken < written.size(); };
    co_await until(available);
    co_return json::parse(written[taken++]).as_object();
  }
  /// The next message the client wrote, which must be a request for `method`.
  asio::awaitable<json::object> expect_request(std::string method) {
    json::object m = co_await next_write();
    INFO("client wrote " << json::serialize(m));
    REQUIRE(m.contains("id"));
    REQUIRE(m.at("method") == json::value(method));
    co_return m;
  }

  // ---- state (read by the transport and the tests)
  std::deque<std::string> inbound;
  bool eof = false;
  std::vector<std::string> written;
  std::size_t taken = 0;
  std::size_t reads = 0;
  int transports_made = 0;
  bool opened = false;
  bool shutdown_called = false;
  bool killed = false;
  std::optional<int> exit_status;
  std::string stderr_tail;

 private:
  asio::steady_timer changed_;
};

/// A codex::Transport over a Peer. Reads go through a LineFramer, one queued chunk per read,
/// as the stdio transport reads its pipe.
class MemoryTransport final : public codex::Transport {
 public:
  MemoryTransport(std::shared_ptr<Peer> peer, std::size_t max_line)
      : peer_(std::move(peer)), framer_(max_line) {}

  asio::awaitable<void> open() override {
    peer_->opened = true;
    peer_->notify();
    co_return;
  }
  asio::awaitable<bool> read(codex::MessageSink& sink) override {
    auto p = peer_;
    const std::function<bool()> readable = [&p] {
      return !p->inbound.empty() || p->eof || p->killed;
    };
    co_await p->until(readable);
    if (p->inbound.empty()) co_return false;
    std::string chunk = std::move(p->inbound.front());
    p->inbound.pop_front();
    ++p->reads;
    framer_.feed(chunk, sink);
    p->notify();
    co_return true;
  }
  asio::awaitable<void> write(const std::vector<std::string>& messages) override {
    for (auto& m : messages)
      peer_->written.push_back(m);
    peer_->notify();
    co_return;
  }
  asio::awaitable<void> shutdown(std::chrono::milliseconds) override {
    peer_->shutdown_called = true;
    peer_->eof = true;
    peer_->notify();
    co_return;
  }
  asio::awaitable<void> wait_gone(std::chrono::milliseconds) override { co_return; }
  void kill() noexcept override {
    peer_->killed = true;
    peer_->notify();
  }
  std::optional<int> exit_status() const override { return peer_->exit_status; }
  std::string stderr_tail() const override { return peer_->stderr_tail; }
  std::string describe() const override { return "in-memory test transport"; }

 private:
  std::shared_ptr<Peer> peer_;
  codex::detail::LineFramer framer_;
};

// ================================================================ operations run alongside

/// The outcome of an operation spawned next to the test body.
template <class T>
struct Op {
  bool done = false;
  std::optional<T> value;
  std::exception_ptr error;
};

template <class T>
auto completion(std::shared_ptr<Op<T>> op, Peer* peer) {
  return [op, peer](std::exception_ptr e, T v) {
    op->done = true;
    op->error = e;
    if (!e) op->value = std::move(v);
    peer->notify();
  };
}

template <class T>
std::shared_ptr<Op<T>> spawn(Peer& peer, asio::awaitable<T> a) {
  auto op = std::make_shared<Op<T>>();
  asio::co_spawn(peer.executor(), std::move(a), completion(op, &peer));
  return op;
}

template <class T>
std::shared_ptr<Op<T>> spawn(Peer& peer, asio::awaitable<T> a, asio::cancellation_slot slot) {
  auto op = std::make_shared<Op<T>>();
  asio::co_spawn(peer.executor(), std::move(a),
                 asio::bind_cancellation_slot(slot, completion(op, &peer)));
  return op;
}

inline asio::awaitable<bool> as_bool(asio::awaitable<void> a) {
  co_await std::move(a);
  co_return true;
}

template <class T>
asio::awaitable<void> wait(Peer& peer, const std::shared_ptr<Op<T>>& op) {
  const std::function<bool()> finished = [&op] { return op->done; };
  co_await peer.until(finished);
}

/// True when `e` holds an `E`.
template <class E>
bool holds(const std::exception_ptr& e) {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const E&) {
    return true;
  } catch (...) {
  }
  return false;
}

inline bool is_operation_aborted(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& x) {
    return x.code() == asio::error::operation_aborted;
  } catch (...) {
  }
  return false;
}

// ================================================================ the harness

constexpr std::string_view kUserAgent = "codex_cli_rs/0.169.0 (Debian 12.0.0; x86_64) xterm";

class Harness {
 public:
  Harness() {
    config.request_timeout = 10s;
    config.shutdown_timeout = 1s;
    auto p = peer;
    config.transport_factory = [p](asio::any_io_executor, const codex::CodexConfig& c) {
      ++p->transports_made;
      return std::make_unique<MemoryTransport>(p, c.limits.max_line_bytes);
    };
  }

  /// Runs `body(client)` on the io_context (bounded by `limit` through `run_async`: a hang FAILS
  /// the test), then destroys the client and fails if its loops do not end within `limit` too.
  template <class Body>
  void run(Body body, std::chrono::milliseconds limit = 5s) {
    auto client = std::make_unique<codex::AsyncCodex>(ioc.get_executor(), config);
    const std::function<std::string()> state = [this] {
      return "client wrote " + std::to_string(peer->written.size()) + " messages, " +
             std::to_string(peer->inbound.size()) + " server chunks unread";
    };
    try {
      run_async(ioc, body(*client), limit, state);
    } catch (...) {
      client.reset();  // ends the loops, then lets them unwind
      ioc.restart();
      ioc.run_for(1s);
      throw;
    }
    client.reset();  // ends the loops; the io_context then runs out of work
    ioc.run_for(limit);
    INFO("the client's reader/writer loops did not end after the client was destroyed");
    REQUIRE(ioc.stopped());
  }

  asio::io_context ioc;
  std::shared_ptr<Peer> peer = std::make_shared<Peer>(ioc.get_executor());
  codex::CodexConfig config;
};

/// Answers the handshake: initialize, then checks the `initialized` notification.
inline asio::awaitable<void> serve_initialize(Peer& peer,
                                              std::string_view user_agent = kUserAgent) {
  auto init = co_await peer.expect_request("initialize");
  json::object result;
  result["userAgent"] = user_agent;
  result["codexHome"] = "/home/u/.codex";
  result["platformFamily"] = "unix";
  result["platformOs"] = "linux";
  peer.reply(init.at("id"), json::serialize(result));
  auto initialized = co_await peer.next_write();
  REQUIRE(json::value(initialized) == json::parse(R"({"method":"initialized"})"));
}

/// Starts the client and answers the handshake.
inline asio::awaitable<void> start(Peer& peer, codex::AsyncCodex& client) {
  auto started = spawn(peer, as_bool(client.start()));
  co_await serve_initialize(peer);
  co_await wait(peer, started);
  if (started->error) std::rethrow_exception(started->error);
}

/// Starts a thread `th-1` (answering thread/start).
inline asio::awaitable<codex::AsyncThread> start_thread(Peer& peer, codex::AsyncCodex& client) {
  auto th = spawn(peer, client.thread_start({}));
  auto req = co_await peer.expect_request("thread/start");
  const json::value expected_params =
      json::parse(R"({"approvalPolicy":"on-request","approvalsReviewer":"auto_review"})");
  REQUIRE(req.at("params") == expected_params);
  peer.reply(req.at("id"), R"({"thread":{"id":"th-1","status":{"type":"idle"}}})");
  co_await wait(peer, th);
  if (th->error) std::rethrow_exception(th->error);
  co_return std::move(*th->value);
}

/// Starts a turn "go" on `thread`, answering turn/start with the id `turn_id`.
inline asio::awaitable<codex::AsyncTurnHandle> start_turn(Peer& peer, codex::AsyncThread& thread,
                                                          std::string turn_id) {
  auto turn = spawn(peer, thread.turn("go"));
  auto wt = co_await peer.expect_request("turn/start");
  peer.reply(wt.at("id"), R"({"turn":{"id":")" + turn_id + R"(","status":"inProgress"}})");
  co_await wait(peer, turn);
  if (turn->error) std::rethrow_exception(turn->error);
  co_return std::move(*turn->value);
}

inline std::string event(std::string_view method, std::string_view params_json) {
  json::object m;
  m["method"] = method;
  m["params"] = json::parse(params_json);
  return json::serialize(m) + "\n";
}

}  // namespace engine_harness

using namespace engine_harness;  // NOLINT(google-build-using-namespace): test code
