// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// Quickstart (coroutine API): the co_await twin of quickstart/sync.cpp, on the caller's
// io_context with no hidden threads.

#include <codex/codex.hpp>

#include "../common/sample_env.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <iostream>

using namespace std::chrono_literals;
using codex::testing::Response;

// snippet-begin: quickstart_async
boost::asio::awaitable<int> quickstart(codex::CodexConfig config) {
  codex::AsyncCodex codex(co_await boost::asio::this_coro::executor, std::move(config));
  co_await codex.start();
  std::cout << "connected to " << codex.metadata().server_name << " "
            << codex.metadata().server_version << "\n";

  codex::AsyncThread thread = co_await codex.thread_start();
  codex::AsyncTurnHandle turn = co_await thread.turn("Say hello in one sentence.");
  std::cout << "thread " << thread.id() << ", turn " << turn.id() << "\n\nassistant> ";

  codex::AsyncTurnStream events = turn.stream();
  while (auto ev = co_await events.next()) {
    if (ev->method == "item/agentMessage/delta") std::cout << ev->delta() << std::flush;
  }
  std::cout << "\n\n";
  codex::TurnResult result = events.result();  // built from the events the stream yielded
  co_await codex.close();
  codex::samples::print_summary(result);
  co_return 0;
}
// snippet-end: quickstart_async

int main(int argc, char** argv) {
  codex::samples::SampleEnv env(argc, argv);
  env.script(Response::message(
      "Hello from codex-cpp, the coroutine way! Every piece of this answer travelled through "
      "co_await from the real codex app-server.",
      {.deltas = 14, .delay = 40ms}));
  // snippet-begin: quickstart_async_main
  boost::asio::io_context ioc;
  int rc = 1;
  boost::asio::co_spawn(ioc, quickstart(env.config()), [&](std::exception_ptr e, int r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "quickstart_async: " << ex.what() << "\n";
      }
    } else {
      rc = r;
    }
  });
  ioc.run();
  return rc;
  // snippet-end: quickstart_async_main
}
