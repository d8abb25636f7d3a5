// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Approvals and other server->client requests end to end: the real pinned codex binary, offline,
// talking to the scripted model server. Every thread runs under `ask_client_untrusted` +
// `workspace_write`, so codex asks before `touch ...` and before apply_patch (protocol §10.5).
//
// Every wait is bounded (kWait for one event, kTestLimit for a whole test); nothing sleeps to
// synchronize: tests wait for the events themselves (a request on the turn's stream, a
// `serverRequest/resolved`, a handler's signal). The `// doc:` markers delimit the excerpts
// quoted in docs/approvals.md.

#include <catch2/catch.hpp>

#include <codex/approval_policies.hpp>
#include <codex/codex.hpp>

#include "bounded_run.hpp"
#include "mock_model_server.hpp"
#include "real_codex.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

using codex::ApprovalDecision;
using codex::ApprovalMode;
using codex::Sandbox;
using codex::ServerReply;
using codex::ServerRequest;
using codex::TurnStatus;
using codex::testing::MockModelServer;
using codex::testing::RealCodexEnv;
using codex::testing::Response;

namespace {

constexpr auto kWait = std::chrono::milliseconds(30s);        // one awaited event
constexpr auto kTestLimit = std::chrono::milliseconds(120s);  // a whole test
constexpr auto kDrain = std::chrono::milliseconds(5s);        // leftover work after close()
constexpr auto kBlockingLimit = std::chrono::seconds(120);    // a sync test, by its Watchdog

// The scripted model server and an isolated CODEX_HOME + workspace for one test.
struct Env {
  MockModelServer server;
  RealCodexEnv env{server};

  std::string ws() const { return env.workspace().string(); }
  bool exists(const std::string& name) const { return fs::exists(env.workspace() / name); }
  std::string read(const std::string& name) const {
    std::ifstream in(env.workspace() / name, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  codex::CodexConfig config() const {
    auto cfg = env.config();
    cfg.request_timeout = std::chrono::seconds(30);
    return cfg;
  }
};

// snippet-begin: approvals_ask_untrusted
// Thread options: ask the client before anything that is not known safe.
codex::ThreadStartOptions ask_untrusted(const Env& e, codex::ApprovalHandler handler = nullptr) {
  return {.approval_mode = ApprovalMode::ask_client_untrusted,
          .cwd = e.ws(),
          .sandbox = Sandbox::workspace_write,
          .approval_handler = std::move(handler)};
}
// snippet-end: approvals_ask_untrusted

// A one-shot event between coroutines on one executor (no threads involved).
class Signal {
 public:
  explicit Signal(asio::any_io_executor ex) : timer_(std::move(ex)) {}
  void set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const noexcept { return set_; }
  // True once set; false if `timeout` passed first.
  asio::awaitable<bool> wait(std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!set_) {
      if (std::chrono::steady_clock::now() >= deadline) co_return false;
      timer_.expires_at(deadline);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return true;
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// Runs `body(executor)` on a fresh io_context, bounded by kTestLimit; rethrows its exception.
// Afterwards nothing may be left on the io_context (the client was closed; no timer, handler or
// loop may linger).
template <class Body>
void run_async(Body&& body) {
  asio::io_context ioc;
  codex::testing::run_async(ioc, body(ioc.get_executor()), kTestLimit);
  ioc.run_for(kDrain);
  CHECK(ioc.stopped());  // no work left behind after close()
}

// The last completed item of `type` in a turn result.
std::optional<json::object> item_of(const codex::TurnResult& r, std::string_view type) {
  std::optional<json::object> found;
  for (const auto& it : r.items)
    if (auto* t = it.if_contains("type"); t && t->is_string() && t->get_string() == type)
      found = it;
  return found;
}

std::string status_of(const std::optional<json::object>& item) {
  if (!item) return "<no item>";
  if (auto* s = item->if_contains("status"); s && s->is_string())
    return std::string(s->get_string());
  return "<no status>";
}

// Watches one turn from its own coroutine: records the first server request it carries and
// collects the result. The reader never waits for anyone: the request is answered elsewhere.
struct Watch {
  explicit Watch(asio::any_io_executor ex) : request_seen(ex), finished(ex) {}
  Signal request_seen;
  Signal finished;
  codex::PendingRequest pending;
  std::string request_method;
  codex::TurnResult result;
  int deltas = 0;
  std::exception_ptr error;
};

asio::awaitable<void> watch_turn(codex::AsyncTurnHandle turn, Watch& w) {
  try {
    w.result = co_await turn.collect([&w](const codex::Notification& ev) {
      if (ev.method == "item/agentMessage/delta") ++w.deltas;
      if (ev.request && !w.pending) {
        w.pending = ev.request;
        w.request_method = ev.method;
        w.request_seen.set();
      }
    });
  } catch (...) {
    w.error = std::current_exception();
  }
  w.finished.set();
}

void spawn_watch(asio::any_io_executor ex, codex::AsyncTurnHandle turn, Watch& w) {
  asio::co_spawn(ex, watch_turn(std::move(turn), w), asio::detached);
}

// One thread, one turn whose model calls exec_command(`cmd`); returns the collected result.
struct ExecOutcome {
  codex::TurnResult result;
  std::vector<ServerRequest> requests;  // as the handler saw them
};

ExecOutcome run_exec_turn(Env& e, Response response, codex::ApprovalHandler thread_handler) {
  ExecOutcome out;
  e.server.enqueue(std::move(response));
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    codex::AsyncCodex client(ex, e.config());
    auto opts = ask_untrusted(e, thread_handler);
    auto thread = co_await client.thread_start(std::move(opts));
    auto turn = co_await thread.turn("Do the thing.");
    out.result = co_await turn.collect();
    co_await client.close();
  });
  return out;
}

// A handler that records what it saw and answers `d`.
codex::ApprovalHandler answer_with(ApprovalDecision d, std::vector<ServerRequest>& seen) {
  return [d, &seen](ServerRequest r) -> asio::awaitable<ServerReply> {
    seen.push_back(r);
    co_return ServerReply::decision(d);
  };
}

}  // namespace

// ---------------------------------------------------------------- accept / decline / cancel

TEST_CASE("accept runs the command", "[e2e][approvals]") {
  Env e;
  std::vector<ServerRequest> seen;
  auto out = run_exec_turn(e, Response::exec_command("touch accepted.txt"),
                           answer_with(ApprovalDecision::accept, seen));

  CHECK(out.result.status == TurnStatus::completed);
  CHECK(status_of(item_of(out.result, "commandExecution")) == "completed");
  CHECK(e.exists("accepted.txt"));

  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "item/commandExecution/requestApproval");
  CHECK(seen[0].kind == codex::ServerRequestKind::command_execution_approval);
  CHECK(seen[0].is_approval());
  CHECK(seen[0].turn_id == out.result.id);
  CHECK(seen[0].item_id == "call_mock_1");
  // snippet-begin: approvals_command_view
  auto view = codex::CommandApprovalRequest::from(seen[0]);
  REQUIRE(view);
  CHECK(view->command == "/bin/bash -c 'touch accepted.txt'");
  CHECK(view->inner_commands == std::vector<std::string>{"touch accepted.txt"});
  CHECK(codex::path_is_under(view->cwd, e.ws()));
  CHECK(view->offers("accept"));
  // snippet-end: approvals_command_view
}

TEST_CASE("decline leaves the item declined and the turn completes", "[e2e][approvals]") {
  Env e;
  std::vector<ServerRequest> seen;
  auto out = run_exec_turn(e, Response::exec_command("touch declined.txt"),
                           answer_with(ApprovalDecision::decline, seen));
  CHECK(seen.size() == 1);
  CHECK(out.result.status == TurnStatus::completed);
  CHECK(status_of(item_of(out.result, "commandExecution")) == "declined");
  CHECK_FALSE(e.exists("declined.txt"));
  // The model was told (the scripted server quotes the tool output back).
  CHECK(out.result.final_response.value_or("").find("rejected by user") != std::string::npos);
}

TEST_CASE("cancel ends the turn interrupted", "[e2e][approvals]") {
  Env e;
  std::vector<ServerRequest> seen;
  auto out = run_exec_turn(e, Response::exec_command("touch cancelled.txt"),
                           answer_with(ApprovalDecision::cancel, seen));
  CHECK(seen.size() == 1);
  CHECK(out.result.status == TurnStatus::interrupted);
  CHECK_FALSE(e.exists("cancelled.txt"));
}

TEST_CASE("a handler that throws fails the item and the turn completes", "[e2e][approvals]") {
  Env e;
  int calls = 0;
  // snippet-begin: approvals_throwing_handler
  codex::ApprovalHandler throws = [&calls](ServerRequest) -> asio::awaitable<ServerReply> {
    ++calls;
    throw std::runtime_error("the approval UI crashed");
    co_return ServerReply::decision(ApprovalDecision::accept);  // never reached
  };
  // snippet-end: approvals_throwing_handler
  auto out = run_exec_turn(e, Response::exec_command("touch thrown.txt"), throws);
  CHECK(calls == 1);
  CHECK(out.result.status == TurnStatus::completed);
  CHECK(status_of(item_of(out.result, "commandExecution")) == "failed");
  CHECK_FALSE(e.exists("thrown.txt"));
}

TEST_CASE("with no handler the request is declined (fail-closed)", "[e2e][approvals]") {
  Env e;
  auto out = run_exec_turn(e, Response::exec_command("touch unhandled.txt"), nullptr);
  CHECK(out.result.status == TurnStatus::completed);
  CHECK(status_of(item_of(out.result, "commandExecution")) == "declined");
  CHECK_FALSE(e.exists("unhandled.txt"));
}

// ---------------------------------------------------------------- deferred answers

TEST_CASE("an answer deferred to another coroutine (wait_for_answer)", "[e2e][approvals]") {
  Env e;
  e.server.enqueue(Response::exec_command("touch deferred.txt"));
  codex::TurnResult result;
  bool answered = false;
  bool answered_twice = true;
  codex::PendingRequest kept;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    codex::AsyncCodex client(ex, e.config());
    auto opts = ask_untrusted(e, codex::wait_for_answer());
    auto thread = co_await client.thread_start(std::move(opts));
    auto turn = co_await thread.turn("Create deferred.txt.");
    // snippet-begin: approvals_deferred_coroutine
    auto stream = turn.stream();
    while (auto ev = co_await stream.next(kWait)) {
      if (ev->request) {
        CHECK(ev->method == "item/commandExecution/requestApproval");
        kept = ev->request;
        // Answer from another coroutine (a UI, a reviewer...); the stream goes on meanwhile.
        asio::co_spawn(
            ex,
            [&answered, request = ev->request]() -> asio::awaitable<void> {
              answered = request.decide(ApprovalDecision::accept);
              co_return;
            },
            asio::detached);
      }
    }
    result = stream.result();
    // snippet-end: approvals_deferred_coroutine
    answered_twice = kept.decide(ApprovalDecision::decline);
    co_await client.close();
  });
  CHECK(answered);
  CHECK_FALSE(answered_twice);  // the first answer wins
  CHECK(kept.done());
  CHECK_FALSE(kept.resolved_by_server());
  CHECK(result.status == TurnStatus::completed);
  CHECK(status_of(item_of(result, "commandExecution")) == "completed");
  CHECK(e.exists("deferred.txt"));
}

TEST_CASE("sync Codex: an answer deferred to another std::thread", "[e2e][approvals][sync]") {
  Env e;
  e.server.enqueue(Response::exec_command("touch deferred_sync.txt"));
  auto cfg = e.config();
  cfg.approval_handler = codex::wait_for_answer();
  std::optional<codex::TurnResult> result;
  std::atomic<bool> answered{false};
  {
    codex::testing::Watchdog watchdog(kBlockingLimit);
    codex::Codex client(cfg);
    auto opts = ask_untrusted(e);
    auto thread = client.thread_start(std::move(opts));
    // snippet-begin: approvals_deferred_thread
    auto turn = thread.turn("Create deferred_sync.txt.");
    auto stream = turn.stream();
    while (auto ev = stream.next(kWait)) {
      if (ev->request) {
        std::thread answerer([&answered, request = ev->request] {
          answered = request.decide(ApprovalDecision::accept);
        });
        answerer.join();
      }
    }
    result = stream.result();
    // snippet-end: approvals_deferred_thread
    client.close();
  }
  CHECK(answered);
  REQUIRE(result);
  CHECK(result->status == TurnStatus::completed);
  CHECK(status_of(item_of(*result, "commandExecution")) == "completed");
  CHECK(e.exists("deferred_sync.txt"));
}

// ---------------------------------------------------------------- file changes

TEST_CASE("file change approval: accept writes the file and decline does not", "[e2e][approvals]") {
  Env e;
  std::vector<ServerRequest> seen;
  SECTION("accept") {
    auto out = run_exec_turn(e, Response::apply_patch_add_file("notes.txt", "patched by the mock"),
                             answer_with(ApprovalDecision::accept, seen));
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].kind == codex::ServerRequestKind::file_change_approval);
    CHECK(out.result.status == TurnStatus::completed);
    CHECK(status_of(item_of(out.result, "fileChange")) == "completed");
    CHECK(e.read("notes.txt") == "patched by the mock\n");
  }
  SECTION("decline") {
    auto out = run_exec_turn(e, Response::apply_patch_add_file("notes.txt", "patched by the mock"),
                             answer_with(ApprovalDecision::decline, seen));
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].kind == codex::ServerRequestKind::file_change_approval);
    CHECK(out.result.status == TurnStatus::completed);
    CHECK(status_of(item_of(out.result, "fileChange")) == "declined");
    CHECK_FALSE(e.exists("notes.txt"));
  }
}

// ---------------------------------------------------------------- concurrency

TEST_CASE("two turns wait for approval while a third keeps streaming", "[e2e][approvals]") {
  Env e;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    codex::AsyncCodex client(ex, e.config());
    auto opts_a = ask_untrusted(e, codex::wait_for_answer());
    auto opts_b = ask_untrusted(e, codex::wait_for_answer());
    auto opts_c = ask_untrusted(e);
    auto a = co_await client.thread_start(std::move(opts_a));
    auto b = co_await client.thread_start(std::move(opts_b));
    auto c = co_await client.thread_start(std::move(opts_c));

    // The scripted server answers in request order: start B only once A's request is out.
    Watch wa(ex), wb(ex), wc(ex);
    e.server.enqueue(Response::exec_command("touch from_a.txt"));
    spawn_watch(ex, co_await a.turn("A"), wa);
    REQUIRE(co_await wa.request_seen.wait());
    e.server.enqueue(Response::exec_command("touch from_b.txt"));
    spawn_watch(ex, co_await b.turn("B"), wb);
    REQUIRE(co_await wb.request_seen.wait());

    // Both wait; C streams to its end meanwhile.
    e.server.enqueue(Response::message("C streams while A and B wait.", {.deltas = 5}));
    spawn_watch(ex, co_await c.turn("C"), wc);
    REQUIRE(co_await wc.finished.wait());
    CHECK(wc.result.status == TurnStatus::completed);
    CHECK(wc.deltas == 5);
    CHECK(wc.result.final_response == "C streams while A and B wait.");
    CHECK_FALSE(wc.pending);
    CHECK_FALSE(wa.pending.done());
    CHECK_FALSE(wb.pending.done());
    CHECK_FALSE(wa.finished.is_set());
    CHECK_FALSE(wb.finished.is_set());

    // Answer in reverse order: B first, and B completes while A still waits.
    CHECK(wb.pending.decide(ApprovalDecision::accept));
    REQUIRE(co_await wb.finished.wait());
    CHECK(wb.result.status == TurnStatus::completed);
    CHECK(e.exists("from_b.txt"));
    CHECK_FALSE(e.exists("from_a.txt"));
    CHECK_FALSE(wa.finished.is_set());

    CHECK(wa.pending.decide(ApprovalDecision::accept));
    REQUIRE(co_await wa.finished.wait());
    CHECK(wa.result.status == TurnStatus::completed);
    CHECK(e.exists("from_a.txt"));

    CHECK(wa.request_method == "item/commandExecution/requestApproval");
    CHECK(wa.pending.request().thread_id == a.id());
    CHECK(wb.pending.request().thread_id == b.id());
    CHECK_FALSE(wa.error);
    CHECK_FALSE(wb.error);
    CHECK_FALSE(wc.error);
    co_await client.close();
  });
}

// ---------------------------------------------------------------- interrupt, timeout

TEST_CASE("interrupting a turn withdraws its pending approval", "[e2e][approvals]") {
  Env e;
  e.server.enqueue(Response::exec_command("touch interrupted.txt"));
  bool handler_cancelled = false;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    Signal handler_returned(ex);
    // snippet-begin: approvals_withdrawn_handler
    codex::ApprovalHandler slow = [&](ServerRequest) -> asio::awaitable<ServerReply> {
      // Waits for a human; the SDK cancels this wait when the server withdraws the request.
      asio::steady_timer human(co_await asio::this_coro::executor, std::chrono::minutes(10));
      auto [ec] = co_await human.async_wait(asio::as_tuple(asio::use_awaitable));
      handler_cancelled = (ec == asio::error::operation_aborted);
      handler_returned.set();
      co_return ServerReply::decision(ApprovalDecision::accept);  // not sent: already resolved
    };
    // snippet-end: approvals_withdrawn_handler
    codex::AsyncCodex client(ex, e.config());
    auto opts = ask_untrusted(e, slow);
    auto thread = co_await client.thread_start(std::move(opts));
    Watch w(ex);
    auto turn = co_await thread.turn("Create interrupted.txt.");
    spawn_watch(ex, turn, w);
    REQUIRE(co_await w.request_seen.wait());
    // snippet-begin: approvals_withdrawn_program
    codex::PendingRequest pending = w.pending;
    co_await turn.interrupt();
    REQUIRE(co_await w.finished.wait());
    CHECK(w.result.status == TurnStatus::interrupted);
    // The server withdraws the request after turn/completed, as a client-level event.
    for (;;) {
      auto ev = co_await client.next_event(kWait);
      if (ev.method == "serverRequest/resolved" &&
          ev.params.at("requestId") == pending.request().id)
        break;
    }
    CHECK(pending.resolved_by_server());
    CHECK(pending.done());
    CHECK_FALSE(pending.decide(ApprovalDecision::accept));  // too late: ignored
    // snippet-end: approvals_withdrawn_program
    REQUIRE(co_await handler_returned.wait());
    co_await client.close();
  });
  CHECK(handler_cancelled);
  CHECK_FALSE(e.exists("interrupted.txt"));
}

TEST_CASE("approval_timeout declines an unanswered request", "[e2e][approvals]") {
  Env e;
  e.server.enqueue(Response::exec_command("touch timed_out.txt"));
  codex::PendingRequest pending;
  codex::TurnResult result;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    // snippet-begin: approvals_timeout_config
    auto cfg = e.config();
    cfg.approval_handler = codex::wait_for_answer();  // nobody will answer
    cfg.approval_timeout = std::chrono::milliseconds(300);
    // snippet-end: approvals_timeout_config
    codex::AsyncCodex client(ex, cfg);
    auto opts = ask_untrusted(e);
    auto thread = co_await client.thread_start(std::move(opts));
    auto turn = co_await thread.turn("Create timed_out.txt.");
    result = co_await turn.collect([&](const codex::Notification& ev) {
      if (ev.request) pending = ev.request;
    });
    co_await client.close();
  });
  REQUIRE(pending);
  CHECK(pending.done());
  CHECK_FALSE(pending.resolved_by_server());
  CHECK(result.status == TurnStatus::completed);
  CHECK(status_of(item_of(result, "commandExecution")) == "declined");
  CHECK_FALSE(e.exists("timed_out.txt"));
}

TEST_CASE("an answered request leaves no approval_timeout timer behind", "[e2e][approvals]") {
  Env e;
  e.server.enqueue(Response::exec_command("touch answered_in_time.txt"));
  auto cfg = e.config();
  cfg.approval_timeout = std::chrono::minutes(10);
  cfg.approval_handler = codex::approve_all();
  codex::TurnResult result;
  // run_async checks that the io_context has no work left once the client is closed.
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    codex::AsyncCodex client(ex, cfg);
    auto opts = ask_untrusted(e);
    auto thread = co_await client.thread_start(std::move(opts));
    auto turn = co_await thread.turn("Create answered_in_time.txt.");
    result = co_await turn.collect();
    co_await client.close();
  });
  CHECK(result.status == TurnStatus::completed);
  CHECK(e.exists("answered_in_time.txt"));
}

// ---------------------------------------------------------------- handler precedence

TEST_CASE("a thread handler overrides the config handler and a turn handler the thread handler",
          "[e2e][approvals]") {
  Env e;
  std::vector<ServerRequest> by_config, by_thread, by_turn;
  auto cfg = e.config();
  cfg.approval_handler = answer_with(ApprovalDecision::decline, by_config);
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    codex::AsyncCodex client(ex, cfg);
    // snippet-begin: approvals_handler_precedence
    auto thread_opts = ask_untrusted(e, answer_with(ApprovalDecision::accept, by_thread));
    auto thread = co_await client.thread_start(std::move(thread_opts));

    e.server.enqueue(Response::exec_command("touch by_thread.txt"));
    auto r1 = co_await thread.run("Uses the thread's handler.");

    codex::TurnOptions turn_opts{.approval_handler =
                                     answer_with(ApprovalDecision::decline, by_turn)};
    e.server.enqueue(Response::exec_command("touch by_turn.txt"));
    auto r2 = co_await thread.run("Uses this turn's handler.", std::move(turn_opts));
    // snippet-end: approvals_handler_precedence
    CHECK(r1.status == TurnStatus::completed);
    CHECK(r2.status == TurnStatus::completed);

    // A thread without its own handler falls back to the config's.
    auto plain_opts = ask_untrusted(e);
    auto plain = co_await client.thread_start(std::move(plain_opts));
    e.server.enqueue(Response::exec_command("touch by_config.txt"));
    auto r3 = co_await plain.run("Uses the config's handler.");
    CHECK(r3.status == TurnStatus::completed);
    co_await client.close();
  });
  CHECK(by_thread.size() == 1);
  CHECK(by_turn.size() == 1);
  CHECK(by_config.size() == 1);
  CHECK(e.exists("by_thread.txt"));
  CHECK_FALSE(e.exists("by_turn.txt"));
  CHECK_FALSE(e.exists("by_config.txt"));
}

// ---------------------------------------------------------------- sync client

TEST_CASE("sync Codex with a plain-function handler accepting", "[e2e][approvals][sync]") {
  Env e;
  e.server.enqueue(Response::exec_command("touch sync_accepted.txt"));
  const auto test_thread = std::this_thread::get_id();
  std::mutex mu;
  std::optional<std::thread::id> handler_thread;
  std::size_t models_seen_in_handler = 0;
  std::string method_seen;
  codex::TurnResult result;
  {
    codex::testing::Watchdog watchdog(kBlockingLimit);
    codex::Codex client(e.config());
    // snippet-begin: approvals_plain_function_handler
    // A plain function runs on a pool thread: it may block, here even on a blocking call to the
    // same client (which needs the client's I/O thread to be free).
    auto handler = [&](const ServerRequest& r) -> ServerReply {
      auto models = client.models();
      std::lock_guard lock(mu);
      handler_thread = std::this_thread::get_id();
      method_seen = r.method;
      if (auto* d = models.if_contains("data"); d && d->is_array())
        models_seen_in_handler = d->as_array().size();
      return ServerReply::decision(ApprovalDecision::accept);
    };
    auto thread = client.thread_start(ask_untrusted(e, handler));
    auto turn = thread.turn("Create sync_accepted.txt.");
    auto stream = turn.stream();
    while (stream.next(kWait)) {
    }
    result = stream.result();
    // snippet-end: approvals_plain_function_handler
    client.close();
  }
  std::lock_guard lock(mu);
  REQUIRE(handler_thread);
  CHECK(*handler_thread != test_thread);
  CHECK(method_seen == "item/commandExecution/requestApproval");
  CHECK(models_seen_in_handler > 0);
  CHECK(result.status == TurnStatus::completed);
  CHECK(status_of(item_of(result, "commandExecution")) == "completed");
  CHECK(e.exists("sync_accepted.txt"));
}

// ---------------------------------------------------------------- the allow list

TEST_CASE("allow_commands accepts listed commands and declines the rest", "[e2e][allowlist]") {
  Env e;
  fs::create_directories(e.env.workspace() / "x");
  std::ofstream(e.env.workspace() / "x" / "keep.txt") << "keep\n";
  codex::TurnResult allowed, refused, patched;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    codex::AsyncCodex client(ex, e.config());
    // snippet-begin: approvals_allow_commands
    auto opts = ask_untrusted(e, codex::allow_commands({.command_prefixes = {"touch"},
                                                        .cwd_roots = {e.ws()},
                                                        .allow_file_changes_under_roots = true}));
    auto thread = co_await client.thread_start(std::move(opts));
    e.server.enqueue(Response::exec_command("touch allowed.txt"));
    allowed = co_await thread.run("Create allowed.txt.");
    e.server.enqueue(Response::exec_command("rm -rf x"));
    refused = co_await thread.run("Remove x.");
    // snippet-end: approvals_allow_commands
    // 0.169.0 puts no paths in item/fileChange/requestApproval: the handler alone cannot check
    // them, so it declines.
    e.server.enqueue(Response::apply_patch_add_file("patched.txt", "from the allow list"));
    patched = co_await thread.run("Add patched.txt.");
    co_await client.close();
  });
  CHECK(allowed.status == TurnStatus::completed);
  CHECK(status_of(item_of(allowed, "commandExecution")) == "completed");
  CHECK(e.exists("allowed.txt"));
  CHECK(refused.status == TurnStatus::completed);
  CHECK(status_of(item_of(refused, "commandExecution")) == "declined");
  CHECK(e.exists("x/keep.txt"));
  CHECK(status_of(item_of(patched, "fileChange")) == "declined");
  CHECK_FALSE(e.exists("patched.txt"));
}

TEST_CASE("allow-list file changes with the fileChange item from the stream", "[e2e][allowlist]") {
  Env e;
  codex::TurnResult inside, outside;
  const codex::AllowList list{.cwd_roots = {e.ws()}, .allow_file_changes_under_roots = true};
  auto outside_path = (e.env.root() / "outside.txt").string();
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    codex::AsyncCodex client(ex, e.config());
    auto opts = ask_untrusted(e, codex::wait_for_answer());
    auto thread = co_await client.thread_start(std::move(opts));
    std::vector<std::pair<std::string, codex::TurnResult*>> cases;
    cases.emplace_back("inside.txt", &inside);
    cases.emplace_back(outside_path, &outside);
    for (auto& [path, result] : cases) {
      e.server.enqueue(Response::apply_patch_add_file(path, "checked against the roots"));
      auto turn = co_await thread.turn("Add a file.");
      // snippet-begin: approvals_allow_list_reply
      auto stream = turn.stream();
      std::optional<json::object> file_change;  // from the item/started before the request
      while (auto ev = co_await stream.next(kWait)) {
        if (ev->method == "item/started") {
          const auto& item = ev->params.at("item").as_object();
          if (item.at("type") == "fileChange") file_change = item;
        }
        if (ev->request)
          ev->request.respond(codex::allow_list_reply(list, ev->request.request(),
                                                      file_change ? &*file_change : nullptr));
      }
      *result = stream.result();
      // snippet-end: approvals_allow_list_reply
    }
    co_await client.close();
  });
  CHECK(status_of(item_of(inside, "fileChange")) == "completed");
  CHECK(e.read("inside.txt") == "checked against the roots\n");
  CHECK(status_of(item_of(outside, "fileChange")) == "declined");
  CHECK_FALSE(fs::exists(outside_path));
}
