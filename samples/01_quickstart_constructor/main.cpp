// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 01 quickstart_constructor — twin of the Python SDK's examples/01_quickstart_constructor.
//
// The first run: constructing `codex::Codex` spawns `codex app-server` and runs `initialize`
// (eagerly; a failure throws and leaves nothing running). Its metadata says which server
// answered. Then one thread and one turn. The coroutine form starts `AsyncCodex` explicitly.
//
//   01_quickstart_constructor [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <iostream>

namespace {

namespace samples = codex::samples;
using codex::testing::Response;

void print_metadata(const codex::InitializeResponse& md) {
  std::cout << "server:          " << md.server_name << "\n"
            << "version:         " << md.server_version << "\n"
            << "user_agent:      " << md.user_agent << "\n"
            << "codex_home:      " << md.codex_home.value_or("<not reported>") << "\n"
            << "platform_family: " << md.platform_family.value_or("<not reported>") << "\n"
            << "platform_os:     " << md.platform_os.value_or("<not reported>") << "\n";
}

void check_result(const codex::InitializeResponse& md, const codex::TurnResult& result) {
  std::cout << "final_response:  " << result.final_response.value_or("<none>") << "\n";
  samples::check(!md.server_name.empty() && !md.server_version.empty(),
                 "metadata names the server and its version");
  samples::check(result.status == codex::TurnStatus::completed, "the turn completed");
  samples::check(result.final_response.has_value(), "the turn has a final response");
}

int sync_main(samples::SampleEnv& env) {
  env.script(Response::message("Hello! I am Codex, answering through the C++ SDK."));

  // snippet-begin: quickstart_constructor_sync
  codex::Codex codex(env.config());  // starts the server and initializes, or throws
  print_metadata(codex.metadata());

  codex::Thread thread = codex.thread_start();
  codex::TurnResult result = thread.run("Say hello in one sentence.");
  // snippet-end: quickstart_constructor_sync
  check_result(codex.metadata(), result);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  env.script(Response::message("Hello! I am Codex, answering through the C++ SDK."));

  // snippet-begin: quickstart_constructor_async
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  co_await codex.start();  // spawn + initialize (the first call would also do it)
  print_metadata(codex.metadata());

  codex::AsyncThread thread = co_await codex.thread_start();
  codex::Input prompt("Say hello in one sentence.");
  codex::TurnResult result = co_await thread.run(std::move(prompt));
  // snippet-end: quickstart_constructor_async
  check_result(codex.metadata(), result);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "01_quickstart_constructor", sync_main, async_main);
}
