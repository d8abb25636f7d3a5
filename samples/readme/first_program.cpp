// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// The README's first programs, compiled in CI so the README quotes code that builds. They use
// the default configuration (your Codex login), so CI only compiles them; the offline twins that
// CI runs are samples/quickstart/{sync,async}.cpp.
#include <codex/codex.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstring>
#include <iostream>

// snippet-begin: first_program
int first_program() {
  codex::Codex codex;  // spawns `codex app-server`, runs initialize
  auto thread = codex.thread_start();
  auto result = thread.run("Say hello");
  std::cout << result.final_response.value_or("") << "\n";
  return 0;
}
// snippet-end: first_program

// snippet-begin: first_program_async
boost::asio::awaitable<void> hello() {
  codex::AsyncCodex codex(co_await boost::asio::this_coro::executor);
  auto thread = co_await codex.thread_start();
  auto result = co_await thread.run("Say hello");
  std::cout << result.final_response.value_or("") << "\n";
  co_await codex.close();
}
// snippet-end: first_program_async

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--async") == 0) {
    boost::asio::io_context ioc;
    boost::asio::co_spawn(ioc, hello(), boost::asio::detached);
    ioc.run();
    return 0;
  }
  return first_program();
}
