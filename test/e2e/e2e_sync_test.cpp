// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// End-to-end, blocking client (`codex::Codex`) against the real pinned `codex app-server`:
// streaming, concurrent turns, steer/interrupt, failed turns, inputs reaching the model,
// final_response rules, and the child process's lifecycle.

#include "e2e_fixture.hpp"

#include <future>

using namespace e2e;
using codex::TurnStatus;

namespace {

const std::string kFiveChunks = "Hello there, this reply is streamed in five chunks.";

/// Every event of a turn stream belongs to that turn (and, when it names one, to its thread).
void check_routed_to(const Seen& seen, const std::string& turn_id, const std::string& thread_id) {
  for (const auto& ev : seen.events) {
    INFO("event " << ev.method);
    CHECK(ev.turn_id() == turn_id);
    if (!ev.thread_id().empty()) CHECK(ev.thread_id() == thread_id);
  }
}

}  // namespace

TEST_CASE("sync stream: 5 deltas, their concatenation is the final item, one turn/completed",
          "[e2e][sync][stream]") {
  Env e;
  e.server.enqueue(Response::message(kFiveChunks, {.deltas = 5}));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  auto handle = thread.turn("Say hello.");
  REQUIRE(!handle.id().empty());
  CHECK(handle.thread_id() == thread.id());

  Seen seen;
  for (const Notification& ev : handle.stream())
    seen.events.push_back(ev);

  CHECK(seen.deltas().size() == 5);
  CHECK(seen.delta_text() == kFiveChunks);
  CHECK(seen.agent_texts() == std::vector<std::string>{kFiveChunks});
  CHECK(seen.count("turn/started") == 1);
  CHECK(seen.count("turn/completed") == 1);
  REQUIRE(!seen.events.empty());
  CHECK(seen.events.back().method == "turn/completed");
  CHECK(seen.completed_status() == "completed");
  check_routed_to(seen, handle.id(), thread.id());

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].last_user_text() == std::optional<std::string>("Say hello."));
  CHECK(reqs[0].session_id() == thread.id());
}

TEST_CASE("sync run: TurnResult carries id, status, timing, items, usage and final_response",
          "[e2e][sync][stream]") {
  Env e;
  e.server.enqueue(Response::message(kFiveChunks, {.deltas = 5})
                       .with_usage({.input_tokens = 120, .output_tokens = 20}));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  Seen seen;
  auto r = thread.run("Say hello.", {}, record_into(seen));

  CHECK(!r.id.empty());
  CHECK(r.status == TurnStatus::completed);
  CHECK(!r.error);
  CHECK(r.final_response == std::optional<std::string>(kFiveChunks));
  CHECK(r.started_at.has_value());
  CHECK(r.completed_at.has_value());
  CHECK(r.duration_ms.has_value());
  CHECK(agent_texts(r) == std::vector<std::string>{kFiveChunks});
  REQUIRE(r.usage.has_value());
  CHECK(r.usage->last.input_tokens == 120);
  CHECK(r.usage->last.output_tokens == 20);
  CHECK(r.usage->total.total_tokens >= r.usage->last.total_tokens);
  CHECK(str(r.turn, "id") == r.id);
  CHECK(str(r.turn, "status") == "completed");

  // The observer saw the same turn: 5 deltas, one completion, last.
  CHECK(seen.deltas().size() == 5);
  CHECK(seen.delta_text() == kFiveChunks);
  CHECK(seen.count("turn/completed") == 1);
  REQUIRE(!seen.events.empty());
  CHECK(seen.events.back().method == "turn/completed");
}

TEST_CASE("the newcomer program works: Codex(config).thread_start().run(\"Say hello\")",
          "[e2e][sync][newcomer]") {
  Env e;
  e.server.enqueue(Response::message("Hello! How can I help?"));

  codex::Codex codex(e.config());
  auto t = codex.thread_start();
  auto r = t.run("Say hello");

  CHECK(r.final_response == std::optional<std::string>("Hello! How can I help?"));
  CHECK(r.status == TurnStatus::completed);
  // The default approval mode is auto_review: on-request + the auto reviewer.
  CHECK(str(t.response(), "approvalPolicy") == "on-request");
  CHECK(str(t.response(), "approvalsReviewer") == "auto_review");
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].last_user_text() == std::optional<std::string>("Say hello"));
}

TEST_CASE(
    "sync: two concurrent turns on two threads over one client, read alternately, stay "
    "separate",
    "[e2e][sync][concurrency]") {
  Env e;
  const std::string a_text = "AAAA aaaa AAAA aaaa AAAA aaaa";
  const std::string b_text = "BBBB bbbb BBBB bbbb BBBB bbbb";
  // Each response is held after its first delta, so both turns are mid-stream at the same time.
  e.server.enqueue(Response::message(a_text, {.deltas = 6}).hold_after_deltas("a", 1));
  e.server.enqueue(Response::message(b_text, {.deltas = 6}).hold_after_deltas("b", 1));

  codex::Codex codex(e.config());
  auto ta = codex.thread_start();
  auto tb = codex.thread_start();
  REQUIRE(ta.id() != tb.id());

  auto ha = ta.turn("Thread A.");
  REQUIRE(e.server.wait_until_held("a", kServerWait));
  auto hb = tb.turn("Thread B.");
  REQUIRE(e.server.wait_until_held("b", kServerWait));
  REQUIRE(ha.id() != hb.id());
  e.server.release("a");
  e.server.release("b");

  auto sa = ha.stream();
  auto sb = hb.stream();
  Seen seen_a, seen_b;
  bool a_done = false, b_done = false;
  while (!a_done || !b_done) {
    if (!a_done) {
      if (auto ev = sa.next(kEventWait))
        seen_a.events.push_back(std::move(*ev));
      else
        a_done = true;
    }
    if (!b_done) {
      if (auto ev = sb.next(kEventWait))
        seen_b.events.push_back(std::move(*ev));
      else
        b_done = true;
    }
  }

  check_routed_to(seen_a, ha.id(), ta.id());
  check_routed_to(seen_b, hb.id(), tb.id());
  CHECK(seen_a.delta_text() == a_text);
  CHECK(seen_b.delta_text() == b_text);
  CHECK(seen_a.count("turn/completed") == 1);
  CHECK(seen_b.count("turn/completed") == 1);
  CHECK(seen_a.completed_status() == "completed");
  CHECK(seen_b.completed_status() == "completed");

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].last_user_text() == std::optional<std::string>("Thread A."));
  CHECK(reqs[0].session_id() == ta.id());
  CHECK(reqs[1].last_user_text() == std::optional<std::string>("Thread B."));
  CHECK(reqs[1].session_id() == tb.id());
}

TEST_CASE("sync: two std::threads run turns concurrently on one client",
          "[e2e][sync][concurrency]") {
  Env e;
  const std::vector<std::string> texts = {"Reply number one.", "Reply number two."};
  for (const auto& t : texts)
    e.server.enqueue(Response::message(t, {.deltas = 3}));
  codex::Codex codex(e.config());

  struct Outcome {
    std::string thread_id;
    codex::TurnResult result;
  };
  // snippet-begin: threading_sync_two_threads
  auto worker = [&codex](std::string prompt) {
    auto thread = codex.thread_start();
    return Outcome{thread.id(), thread.run(prompt)};
  };
  auto f1 = std::async(std::launch::async, worker, std::string("Prompt from worker one."));
  auto f2 = std::async(std::launch::async, worker, std::string("Prompt from worker two."));
  // snippet-end: threading_sync_two_threads
  REQUIRE(f1.wait_for(60s) == std::future_status::ready);
  REQUIRE(f2.wait_for(60s) == std::future_status::ready);
  const Outcome o1 = f1.get();
  const Outcome o2 = f2.get();
  REQUIRE(o1.thread_id != o2.thread_id);

  // The k-th model request got the k-th scripted reply: each thread must get the reply to its
  // own request, and its own prompt.
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  for (const Outcome* o : {&o1, &o2}) {
    CHECK(o->result.status == TurnStatus::completed);
    const std::size_t k = reqs[0].session_id() == o->thread_id ? 0 : 1;
    CHECK(reqs[k].session_id() == o->thread_id);
    CHECK(o->result.final_response == std::optional<std::string>(texts[k]));
    const std::string own_prompt = o == &o1 ? "Prompt from worker one." : "Prompt from worker two.";
    CHECK(reqs[k].last_user_text() == std::optional<std::string>(own_prompt));
    CHECK(json::serialize(json::value_from(o->result.items)).find(own_prompt) != std::string::npos);
  }
}

TEST_CASE("sync steer: the steer text reaches the model within the same turn",
          "[e2e][sync][steer]") {
  Env e;
  e.server.enqueue(
      Response::message("one two three four five six seven eight nine ten", {.deltas = 10})
          .hold_after_deltas("steer", 1));
  e.server.enqueue(Response::message("eleven"));

  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  auto h = thread.turn("Slow one.");
  REQUIRE(e.server.wait_until_held("steer", kServerWait));

  auto steered = h.steer("Also mention eleven.");
  CHECK(str(steered, "turnId") == h.id());
  e.server.release("steer");

  Seen seen;
  auto r = h.run(record_into(seen));
  CHECK(r.status == TurnStatus::completed);
  CHECK(r.id == h.id());
  CHECK(r.final_response == std::optional<std::string>("eleven"));
  CHECK(seen.count("turn/completed") == 1);

  REQUIRE(wait_for_model_requests(e.server, 2));
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(texts_contain(reqs[1], "Slow one."));
  CHECK(texts_contain(reqs[1], "Also mention eleven."));
  CHECK_FALSE(texts_contain(reqs[0], "Also mention eleven."));

  // A turn that is over cannot be steered.
  CHECK_THROWS_AS(h.steer("Too late."), codex::InvalidRequestError);
}

TEST_CASE("sync interrupt: the turn ends interrupted and the thread stays usable",
          "[e2e][sync][interrupt]") {
  Env e;
  e.server.enqueue(Response::message("slow words slow words slow words", {.deltas = 6})
                       .hold_after_deltas("int", 1));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  auto h = thread.turn("Talk slowly.");
  REQUIRE(e.server.wait_until_held("int", kServerWait));

  auto res = h.interrupt();
  CHECK(res.empty());
  Seen seen;
  auto r = h.run(record_into(seen));  // interrupted is not a failure: run() does not throw
  e.server.release("int");
  CHECK(r.status == TurnStatus::interrupted);
  CHECK(!r.error);
  CHECK(seen.count("turn/completed") == 1);
  CHECK(seen.completed_status() == "interrupted");

  // A turn that is over cannot be interrupted again.
  CHECK_THROWS_AS(h.interrupt(), codex::InvalidRequestError);

  e.server.enqueue(Response::message("Back again.", {.deltas = 2}));
  auto next = thread.run("Again, quickly.");
  CHECK(next.status == TurnStatus::completed);
  CHECK(next.final_response == std::optional<std::string>("Back again."));
}

TEST_CASE(
    "sync: leaving a stream early, then reading the same handle again, still sees the "
    "completion",
    "[e2e][sync][cancel]") {
  Env e;
  e.server.enqueue(Response::message("Finished while nobody read.", {.deltas = 3})
                       .hold_after_deltas("early", 1));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  drain_events(codex);
  auto h = thread.turn("Go on without me.");
  REQUIRE(e.server.wait_until_held("early", kServerWait));
  {
    auto first = h.stream();
    REQUIRE(first.next(kEventWait).has_value());
  }  // the only stream is closed; the handle lives on

  // The turn completes while nobody reads it.
  e.server.release("early");
  wait_for_event(codex, [&](const Notification& n) {
    if (n.method != "thread/status/changed" || n.thread_id() != thread.id()) return false;
    const auto* status = obj_at(n.params, {"status"});
    return status && str(*status, "type") == "idle";
  });
  thread.read();  // one round trip: turn/completed (sent right after idle) has been routed

  auto again = h.stream();
  Seen seen;
  try {
    while (auto ev = again.next(10s))
      seen.events.push_back(std::move(*ev));
  } catch (const codex::TimeoutError&) {
    FAIL(
        "a new stream of the same handle never ended: the turn's events (turn/completed "
        "included) were dropped after its first stream closed");
  }
  CHECK(seen.count("turn/completed") == 1);
  CHECK(seen.completed_status() == "completed");
}

TEST_CASE("sync failed turns: HTTP 500, HTTP 429, response.failed and a cut stream",
          "[e2e][sync][errors]") {
  Env e;
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();

  struct Case {
    std::string name;
    Response response;
    std::string kind;
    std::string message_part;
    std::optional<std::int64_t> http_status;
    bool use_collect;
  };
  std::vector<Case> cases;
  cases.push_back({"HTTP 500", Response::http_error(500), "internalServerError",
                   "experiencing high demand", std::nullopt, false});
  cases.push_back({"HTTP 429", Response::rate_limited(), "responseTooManyFailedAttempts",
                   "exceeded retry limit, last status: 429 Too Many Requests", 429, false});
  cases.push_back({"response.failed", Response::failed(), "other",
                   "stream disconnected before completion: mock response.failed", std::nullopt,
                   true});
  cases.push_back({"cut stream",
                   Response::message("Hello from the scripted model.", {.deltas = 5}).cut_after(2),
                   "other",
                   "stream disconnected before completion: stream closed before "
                   "response.completed",
                   std::nullopt, true});

  for (auto& c : cases) {
    INFO("case: " << c.name);
    e.server.enqueue(std::move(c.response));
    Seen seen;
    codex::TurnResult r;
    // snippet-begin: errors_failed_turn
    if (c.use_collect) {
      // collect() reports the failure without throwing.
      auto h = thread.turn("This will fail.");
      r = h.collect(record_into(seen));
    } else {
      try {
        thread.run("This will fail.", {}, record_into(seen));
        FAIL("run() returned normally for a failed turn");
      } catch (const codex::TurnFailedError& err) {
        r = err.result();
        CHECK(err.error().message == r.error.value_or(codex::TurnError{}).message);
        CHECK(std::string(err.what()).size() > 0);
      }
    }
    // snippet-end: errors_failed_turn
    CHECK(r.status == TurnStatus::failed);
    REQUIRE(r.error.has_value());
    CHECK(r.error->kind() == c.kind);
    CHECK(r.error->message.find(c.message_part) != std::string::npos);
    CHECK(r.error->http_status_code() == c.http_status);
    CHECK(seen.count("error") >= 1);
    CHECK(seen.count("turn/completed") == 1);
    CHECK(seen.completed_status() == "failed");

    // The thread stays usable.
    e.server.enqueue(Response::message("Recovered."));
    auto ok = thread.run("Recover.");
    CHECK(ok.status == TurnStatus::completed);
    CHECK(ok.final_response == std::optional<std::string>("Recovered."));
  }
}

TEST_CASE("inputs: a data-URL image reaches the model unchanged", "[e2e][sync][inputs]") {
  Env e;
  e.server.enqueue(Response::message("A tiny image."));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  const std::string url = "data:image/png;base64," + std::string(kTinyPngBase64);
  auto r =
      thread.run(codex::Input{codex::TextInput{"What is in this image?"}, codex::ImageInput{url}});
  CHECK(r.status == TurnStatus::completed);

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].image_urls() == std::vector<std::string>{url});
  CHECK(texts_contain(reqs[0], "What is in this image?"));
}

TEST_CASE("inputs: a local image file reaches the model as a PNG data URL", "[e2e][sync][inputs]") {
  Env e;
  const fs::path png = e.workspace() / "tiny.png";
  write_file(png, base64_decode(kTinyPngBase64));
  e.server.enqueue(Response::message("A tiny local image."));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  auto r = thread.run(
      codex::Input{codex::TextInput{"Look at the file."}, codex::LocalImageInput{png.string()}});
  CHECK(r.status == TurnStatus::completed);

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 1);
  auto urls = reqs[0].image_urls();
  REQUIRE(urls.size() == 1);
  const std::string prefix = "data:image/png;base64,";
  CHECK(urls[0].rfind(prefix, 0) == 0);
  CHECK(urls[0].compare(prefix.size(), 11, "iVBORw0KGgo") == 0);  // base64 of the PNG signature
}

TEST_CASE("inputs: a skill input injects the skill body into the model request",
          "[e2e][sync][inputs]") {
  Env e;
  // codex 0.169.0 injects only skills it has loaded: a user skill under $CODEX_HOME/skills is
  // loaded (a bare <workspace>/skills folder is not a skill root and is ignored).
  const fs::path skill = e.codex_home() / "skills" / "demo" / "SKILL.md";
  write_file(skill, "---\nname: demo\ndescription: demo skill\n---\nSKILL BODY MARKER\n");
  e.server.enqueue(Response::message("Used the skill."));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  auto r = thread.run(codex::Input{codex::TextInput{"Use the demo skill."},
                                   codex::SkillInput{"demo", skill.string()}});
  CHECK(r.status == TurnStatus::completed);

  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 1);
  CHECK(texts_contain(reqs[0], "SKILL BODY MARKER"));
  CHECK(texts_contain(reqs[0], "Use the demo skill."));
}

TEST_CASE(
    "final_response: final_answer wins over commentary, phase-less counts, commentary only "
    "is none",
    "[e2e][sync][final_response]") {
  Env e;
  e.server.enqueue(Response::message("Let me think about it.", {.phase = "commentary"})
                       .then_message("The final answer.", {.phase = "final_answer"}));
  e.server.enqueue(Response::message("The answer first.", {.phase = "final_answer"})
                       .then_message("A trailing note.", {.phase = "commentary"}));
  e.server.enqueue(Response::message("No phase on this one.", {.phase = std::nullopt}));
  e.server.enqueue(Response::message("Only commentary.", {.phase = "commentary"}));

  codex::Codex codex(e.config());
  auto thread = codex.thread_start();

  auto r1 = thread.run("Commentary then final.");
  CHECK(agent_texts(r1) == std::vector<std::string>{"Let me think about it.", "The final answer."});
  CHECK(r1.final_response == std::optional<std::string>("The final answer."));

  auto r2 = thread.run("Final then commentary.");
  CHECK(agent_texts(r2) == std::vector<std::string>{"The answer first.", "A trailing note."});
  CHECK(r2.final_response == std::optional<std::string>("The answer first."));

  auto r3 = thread.run("No phase.");
  CHECK(agent_texts(r3) == std::vector<std::string>{"No phase on this one."});
  CHECK(r3.final_response == std::optional<std::string>("No phase on this one."));

  auto r4 = thread.run("Commentary only.");
  CHECK(agent_texts(r4) == std::vector<std::string>{"Only commentary."});
  CHECK_FALSE(r4.final_response.has_value());
}

TEST_CASE("process lifecycle: close() and the Codex destructor end the app-server child",
          "[e2e][sync][process]") {
  Env e;
  pid_t closed_pid = 0;
  {
    codex::Codex codex(e.config());
    closed_pid = the_app_server_pid(e.codex_home());
    CHECK(process_state(closed_pid).rfind("running", 0) == 0);
    codex.close();
    CHECK(process_state(closed_pid) == "gone");
    codex.close();  // idempotent
    const auto t0 = steady::now();
    CHECK_THROWS_AS(codex.thread_start(), codex::TransportClosedError);
    CHECK(steady::now() - t0 < 2s);
  }
  CHECK(app_server_pids(e.codex_home()).empty());

  pid_t dtor_pid = 0;
  {
    codex::Codex codex(e.config());
    dtor_pid = the_app_server_pid(e.codex_home());
    CHECK(dtor_pid != closed_pid);
    auto thread = codex.thread_start();
    CHECK(!thread.id().empty());
  }
  CHECK(process_state(dtor_pid) == "gone");
  CHECK(app_server_pids(e.codex_home()).empty());
}

TEST_CASE(
    "process lifecycle: close() during a running turn fails the pending run() and ends the "
    "child",
    "[e2e][sync][process]") {
  Env e;
  e.server.enqueue(
      Response::message("this reply never finishes", {.deltas = 4}).hold_after_deltas("close", 1));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  const pid_t pid = the_app_server_pid(e.codex_home());
  auto h = thread.turn("Run until closed.");
  auto pending = std::async(std::launch::async, [&h] { return h.run(); });
  REQUIRE(e.server.wait_until_held("close", kServerWait));

  codex.close();
  REQUIRE(pending.wait_for(30s) == std::future_status::ready);
  CHECK_THROWS_AS(pending.get(), codex::TransportClosedError);
  CHECK(process_state(pid) == "gone");
  e.server.release("close");
}

TEST_CASE("process lifecycle: the Codex destructor during a running turn ends the child",
          "[e2e][sync][process]") {
  Env e;
  e.server.enqueue(
      Response::message("this reply never finishes", {.deltas = 4}).hold_after_deltas("dtor", 1));
  pid_t pid = 0;
  {
    codex::Codex codex(e.config());
    auto thread = codex.thread_start();
    pid = the_app_server_pid(e.codex_home());
    auto h = thread.turn("Run until destroyed.");
    REQUIRE(e.server.wait_until_held("dtor", kServerWait));
  }
  CHECK(process_state(pid) == "gone");
  e.server.release("dtor");
}

TEST_CASE(
    "process lifecycle: SIGKILL mid-turn fails the pending run() with TransportClosedError "
    "(exit 137)",
    "[e2e][sync][process]") {
  Env e;
  e.server.enqueue(
      Response::message("this reply never finishes", {.deltas = 4}).hold_after_deltas("kill", 1));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();
  const pid_t pid = the_app_server_pid(e.codex_home());

  auto h = thread.turn("Run until killed.");
  auto pending = std::async(std::launch::async, [&h] { return h.run(); });
  REQUIRE(e.server.wait_until_held("kill", kServerWait));
  REQUIRE(::kill(pid, SIGKILL) == 0);

  REQUIRE(pending.wait_for(30s) == std::future_status::ready);
  try {
    pending.get();
    FAIL("run() returned normally after the app-server was killed");
  } catch (const codex::TransportClosedError& err) {
    INFO("what(): " << err.what());
    CHECK(err.exit_status() == std::optional<int>(137));
  }
  e.server.release("kill");

  // A later call fails at once, the same way.
  const auto t0 = steady::now();
  // snippet-begin: errors_exit_status
  try {
    codex.thread_start();
    FAIL("thread_start() succeeded on a dead client");
  } catch (const codex::TransportClosedError& err) {
    CHECK(err.exit_status() == std::optional<int>(137));
  }
  // snippet-end: errors_exit_status
  CHECK(steady::now() - t0 < 2s);
  CHECK(process_state(pid) == "gone");
}
