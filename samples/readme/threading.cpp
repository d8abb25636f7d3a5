// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// docs/threading.md quotes this file: an `AsyncCodex` on a thread pool, and blocking calls from
// threads that do not run the client's executor. Compiled in CI (target `readme_snippets`), never
// run there: with the default configuration they would use your real Codex login.
#include <codex/codex.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <iostream>
#include <string>
#include <utility>

namespace {

/// One question, one ephemeral thread, one turn.
boost::asio::awaitable<std::string> ask(codex::AsyncCodex& codex, std::string question) {
  codex::ThreadStartOptions options{.ephemeral = true};
  codex::AsyncThread thread = co_await codex.thread_start(std::move(options));
  codex::Input prompt(std::move(question));
  codex::TurnResult result = co_await thread.run(std::move(prompt));
  co_return result.final_response.value_or("");
}

}  // namespace

int answer_on_a_pool(codex::CodexConfig config) {
  // snippet-begin: threading_pool
  boost::asio::thread_pool pool(4);              // the program's own pool
  auto strand = boost::asio::make_strand(pool);  // the client's executor
  codex::AsyncCodex codex(strand, std::move(config));

  // Every coroutine that uses the client runs on that strand. Both turns stream at once; the
  // strand only keeps two pieces of code from touching the client at the same moment.
  std::future<std::string> one =
      boost::asio::co_spawn(strand, ask(codex, "One?"), boost::asio::use_future);
  std::future<std::string> two =
      boost::asio::co_spawn(strand, ask(codex, "Two?"), boost::asio::use_future);
  // This thread does not run the pool: it may block on the futures.
  std::cout << one.get() << "\n" << two.get() << "\n";

  boost::asio::co_spawn(strand, codex.close(), boost::asio::use_future).get();
  pool.join();  // nothing runs any more: `codex` may now be destroyed
  // snippet-end: threading_pool
  return 0;
}
