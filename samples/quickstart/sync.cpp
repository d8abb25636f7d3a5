// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// Quickstart (blocking API): start Codex, open a thread, run one turn and stream the answer to
// the terminal as it arrives, then print the result summary.
//
//   quickstart            offline: real codex app-server + scripted model on 127.0.0.1
//   quickstart --online   your real Codex login or OPENAI_API_KEY

#include <codex/codex.hpp>

#include "../common/sample_env.hpp"

#include <chrono>
#include <iostream>

using namespace std::chrono_literals;
using codex::testing::Response;

int main(int argc, char** argv) try {
  codex::samples::SampleEnv env(argc, argv);
  env.script(Response::message(
      "Hello from codex-cpp! This answer comes from the real codex app-server, streamed to you "
      "in small pieces by a scripted model running on 127.0.0.1.",
      {.deltas = 16, .delay = 40ms}));

  // snippet-begin: quickstart_sync
  codex::Codex codex(env.config());
  std::cout << "connected to " << codex.metadata().server_name << " "
            << codex.metadata().server_version << "\n";

  codex::Thread thread = codex.thread_start();
  std::cout << "thread " << thread.id() << "\n\nassistant> " << std::flush;

  codex::TurnResult result =
      thread.run("Say hello in one sentence.", {}, [](const codex::Notification& ev) {
        if (ev.method == "item/agentMessage/delta") std::cout << ev.delta() << std::flush;
      });
  std::cout << "\n\n";
  // snippet-end: quickstart_sync
  codex::samples::print_summary(result);
  std::cout << "final_response: " << result.final_response.value_or("<none>") << "\n";
  return result.status == codex::TurnStatus::completed ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "quickstart: " << e.what() << "\n";
  return 1;
}
