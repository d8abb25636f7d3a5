// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 05 existing_thread — twin of the Python SDK's examples/05_existing_thread.
//
// Threads outlive the server process: a first client creates a thread, runs a turn and exits;
// a second client (a new `codex app-server` on the same CODEX_HOME) reopens the thread by id
// with `thread_resume` and continues the conversation, history included.
//
//   05_existing_thread [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <iostream>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using codex::testing::Response;

constexpr const char* kFirstPrompt = "Tell me one fact about Saturn.";
constexpr const char* kSecondPrompt = "Continue with one more fact.";

void script(samples::SampleEnv& env) {
  env.script(Response::message("Saturn is less dense than water.", {.deltas = 2}));
  env.script(Response::message("Saturn's rings are mostly water ice.", {.deltas = 2}));
}

void print_resumed(const std::string& id, const json::object& response) {
  const json::array turns = samples::array_at(response, {"thread", "turns"});
  std::cout << "resumed " << id << ": " << turns.size() << " earlier turn(s), preview \""
            << samples::str_at(response, {"thread", "preview"}) << "\"\n";
}

void check_all(samples::SampleEnv& env, const std::string& id, const std::string& resumed_id,
               const codex::TurnResult& first, const codex::TurnResult& second) {
  std::cout << "first:  " << first.final_response.value_or("<none>") << "\n"
            << "second: " << second.final_response.value_or("<none>") << "\n";
  samples::check(resumed_id == id, "thread_resume returns the same thread id");
  samples::check(second.status == codex::TurnStatus::completed, "the resumed turn completed");
  if (auto* model = env.model()) {
    // The second process sent the whole history to the model.
    const auto texts = samples::last_model_request(*model).input_texts();
    auto has = [&](std::string_view s) {
      for (const auto& t : texts)
        if (t.find(s) != std::string::npos) return true;
      return false;
    };
    samples::check(has(kFirstPrompt) && has("less dense than water"),
                   "the model saw the first turn's question and answer");
    samples::check(samples::last_model_request(*model).session_id() == id,
                   "same session id on the wire");
  }
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  // snippet-begin: existing_thread_sync
  std::string thread_id;
  codex::TurnResult first;
  {
    codex::Codex codex(env.config());
    codex::Thread thread = codex.thread_start();
    first = thread.run(kFirstPrompt);
    thread_id = thread.id();
    std::cout << "created " << thread_id << ", then closed the first server\n";
  }  // ~Codex ends the first app-server process

  codex::Codex codex(env.config());  // a new process, same CODEX_HOME
  codex::Thread resumed = codex.thread_resume(thread_id);
  print_resumed(resumed.id(), resumed.response());
  codex::TurnResult second = resumed.run(kSecondPrompt);
  // snippet-end: existing_thread_sync
  check_all(env, thread_id, resumed.id(), first, second);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  auto executor = co_await boost::asio::this_coro::executor;
  // snippet-begin: existing_thread_async
  std::string thread_id;
  codex::TurnResult first;
  {
    codex::AsyncCodex codex(executor, env.config());
    codex::AsyncThread thread = co_await codex.thread_start();
    codex::Input prompt(kFirstPrompt);
    first = co_await thread.run(std::move(prompt));
    thread_id = thread.id();
    co_await codex.close();
    std::cout << "created " << thread_id << ", then closed the first server\n";
  }

  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread resumed = co_await codex.thread_resume(thread_id);
  print_resumed(resumed.id(), resumed.response());
  codex::Input prompt(kSecondPrompt);
  codex::TurnResult second = co_await resumed.run(std::move(prompt));
  // snippet-end: existing_thread_async
  check_all(env, thread_id, resumed.id(), first, second);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "05_existing_thread", sync_main, async_main);
}
