// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 10 error_handling_and_retry — twin of the Python SDK's examples/10_error_handling_and_retry.
//
// What can go wrong and how a program tells the cases apart:
//   1. a turn that FAILS (the model provider answered HTTP 500): `run()` throws
//      `TurnFailedError`, whose `error().kind()` is the server's `codexErrorInfo`
//      (`internalServerError`); it is not an overload, so `retry_on_overload` does not retry it;
//   2. an OVERLOADED model (HTTP 503 `server_is_overloaded`, then success): the turn fails with
//      `serverOverloaded`, which `is_retryable_error` accepts, so `retry_on_overload` backs off
//      and runs the turn again (max_attempts 3, 0.25 s doubling up to 2 s);
//   3. a REQUEST the server rejects (resuming a thread that does not exist): a `JsonRpcError`
//      (here `InvalidRequestError`, code -32600); `ServerBusyError` would be code -32001;
//   4. `collect()` instead of `run()`: the failed turn is returned, with status `failed`.
// Offline the scripted model produces each failure; online they usually all succeed.
//
//   10_error_handling_and_retry [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <iostream>

namespace {

namespace samples = codex::samples;
using codex::testing::Response;

constexpr const char* kPrompt = "Summarize retry best practices in 3 bullets.";
constexpr const char* kMissingThread = "00000000-0000-7000-8000-000000000000";

void script(samples::SampleEnv& env) {
  env.script(Response::http_error(500, "upstream exploded"));                        // step 1
  env.script(Response::http_error(503, "busy, try later", "server_is_overloaded"));  // step 2
  env.script(Response::message(
      "- Retry only transient errors\n- Back off exponentially, with jitter\n- Cap the attempts",
      {.deltas = 3}));
  env.script(Response::http_error(500, "upstream exploded again"));  // step 4
}

constexpr codex::RetryOptions kRetry{.max_attempts = 3,
                                     .initial_delay = std::chrono::milliseconds(250),
                                     .max_delay = std::chrono::milliseconds(2000)};

/// What each step observed (checked at the end).
struct Outcome {
  std::string step1_kind;
  bool step1_retryable = true;
  int step1_attempts = 0;
  int step2_attempts = 0;
  codex::TurnStatus step2_status = codex::TurnStatus::unknown;
  std::int64_t step3_code = 0;
  std::string step3_class;
  codex::TurnStatus step4_status = codex::TurnStatus::unknown;
};

// snippet-begin: error_handling_report
void report_turn_failed(const codex::TurnFailedError& e) {
  const codex::TurnError& err = e.error();
  std::cout << "  TurnFailedError: " << err.message << "\n"
            << "    kind: " << err.kind() << ", http status: "
            << (err.http_status_code() ? std::to_string(*err.http_status_code()) : "-")
            << ", overloaded: " << (err.is_server_overloaded() ? "yes" : "no")
            << ", retryable: " << (codex::is_retryable_error(e) ? "yes" : "no")
            << ", turn status: " << codex::to_string(e.result().status) << "\n";
}
// snippet-end: error_handling_report

void report_text(const codex::TurnResult& r) {
  std::cout << "  " << codex::to_string(r.status) << ": "
            << samples::preview(r.final_response.value_or("<none>")) << "\n";
}

void check_outcome(samples::SampleEnv& env, const Outcome& o) {
  if (env.online()) return;  // the failures are scripted offline only
  samples::check(
      o.step1_kind == "internalServerError" && !o.step1_retryable && o.step1_attempts == 1,
      "HTTP 500: TurnFailedError internalServerError, not retried");
  samples::check(o.step2_attempts == 2 && o.step2_status == codex::TurnStatus::completed,
                 "HTTP 503 overloaded: retried once, then completed");
  samples::check(o.step3_code == -32600 && o.step3_class == "InvalidRequestError",
                 "unknown thread: JsonRpcError -32600 (InvalidRequestError)");
  samples::check(o.step4_status == codex::TurnStatus::failed, "collect() returns the failed turn");
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  Outcome o;
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();

  std::cout << "1. a failing turn under retry_on_overload\n";
  // snippet-begin: error_handling_sync
  try {
    codex::TurnResult r = codex::retry_on_overload(
        [&] {
          ++o.step1_attempts;
          return thread.turn(kPrompt).run();
        },
        kRetry);
    report_text(r);
  } catch (const codex::TurnFailedError& e) {  // the turn ran and failed
    report_turn_failed(e);
    o.step1_kind = e.error().kind();
    o.step1_retryable = codex::is_retryable_error(e);
  } catch (const codex::ServerBusyError& e) {  // -32001: overloaded, even after the retries
    std::cout << "  server overloaded after retries: " << e.rpc_message() << "\n";
  } catch (const codex::JsonRpcError& e) {  // any other request error
    std::cout << "  JSON-RPC error " << e.code() << ": " << e.rpc_message() << "\n";
  }
  // snippet-end: error_handling_sync

  std::cout << "2. an overloaded model, retried with backoff\n";
  codex::TurnResult second = codex::retry_on_overload(
      [&] {
        std::cout << "  attempt " << ++o.step2_attempts << "\n";
        try {
          return thread.turn(kPrompt).run();
        } catch (const codex::TurnFailedError& e) {
          report_turn_failed(e);
          throw;
        }
      },
      kRetry);
  report_text(second);
  o.step2_status = second.status;

  std::cout << "3. a request the server rejects\n";
  try {
    codex.thread_resume(kMissingThread);
  } catch (const codex::ServerBusyError& e) {
    std::cout << "  server busy: " << e.rpc_message() << "\n";
  } catch (const codex::InvalidRequestError& e) {
    std::cout << "  InvalidRequestError " << e.code() << " from " << e.method() << ": "
              << e.rpc_message() << "\n";
    o.step3_code = e.code();
    o.step3_class = "InvalidRequestError";
  } catch (const codex::JsonRpcError& e) {
    std::cout << "  JSON-RPC error " << e.code() << ": " << e.rpc_message() << "\n";
    o.step3_code = e.code();
  }

  std::cout << "4. collect(): the result whatever the status\n";
  codex::TurnResult fourth = thread.turn(kPrompt).collect();
  if (fourth.status == codex::TurnStatus::failed)
    std::cout << "  Turn failed: " << fourth.error->message << " [" << fourth.error->kind()
              << "]\n";
  else
    report_text(fourth);
  o.step4_status = fourth.status;

  check_outcome(env, o);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  Outcome o;
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread thread = co_await codex.thread_start();

  std::cout << "1. a failing turn under retry_on_overload\n";
  // snippet-begin: error_handling_async
  auto failing_turn = [&]() -> boost::asio::awaitable<codex::TurnResult> {
    ++o.step1_attempts;
    codex::Input prompt(kPrompt);
    codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
    co_return co_await turn.run();
  };
  try {
    codex::TurnResult r = co_await codex::async_retry_on_overload(failing_turn, kRetry);
    report_text(r);
  } catch (const codex::TurnFailedError& e) {
    report_turn_failed(e);
    o.step1_kind = e.error().kind();
    o.step1_retryable = codex::is_retryable_error(e);
  } catch (const codex::ServerBusyError& e) {
    std::cout << "  server overloaded after retries: " << e.rpc_message() << "\n";
  } catch (const codex::JsonRpcError& e) {
    std::cout << "  JSON-RPC error " << e.code() << ": " << e.rpc_message() << "\n";
  }
  // snippet-end: error_handling_async

  std::cout << "2. an overloaded model, retried with backoff\n";
  auto overloaded_turn = [&]() -> boost::asio::awaitable<codex::TurnResult> {
    std::cout << "  attempt " << ++o.step2_attempts << "\n";
    codex::Input prompt(kPrompt);
    codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
    try {
      co_return co_await turn.run();
    } catch (const codex::TurnFailedError& e) {
      report_turn_failed(e);
      throw;
    }
  };
  codex::TurnResult second = co_await codex::async_retry_on_overload(overloaded_turn, kRetry);
  report_text(second);
  o.step2_status = second.status;

  std::cout << "3. a request the server rejects\n";
  try {
    co_await codex.thread_resume(kMissingThread);
  } catch (const codex::ServerBusyError& e) {
    std::cout << "  server busy: " << e.rpc_message() << "\n";
  } catch (const codex::InvalidRequestError& e) {
    std::cout << "  InvalidRequestError " << e.code() << " from " << e.method() << ": "
              << e.rpc_message() << "\n";
    o.step3_code = e.code();
    o.step3_class = "InvalidRequestError";
  } catch (const codex::JsonRpcError& e) {
    std::cout << "  JSON-RPC error " << e.code() << ": " << e.rpc_message() << "\n";
    o.step3_code = e.code();
  }

  std::cout << "4. collect(): the result whatever the status\n";
  codex::Input prompt(kPrompt);
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
  codex::TurnResult fourth = co_await turn.collect();
  if (fourth.status == codex::TurnStatus::failed)
    std::cout << "  Turn failed: " << fourth.error->message << " [" << fourth.error->kind()
              << "]\n";
  else
    report_text(fourth);
  o.step4_status = fourth.status;

  check_outcome(env, o);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "10_error_handling_and_retry", sync_main, async_main);
}
