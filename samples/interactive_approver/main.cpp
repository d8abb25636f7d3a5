// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// interactive_approver — a terminal approver (C++ only).
//
// The thread runs with `ApprovalMode::ask_client_untrusted` (every command that is not known to
// be safe, and every patch, is sent to the client for approval) and `Sandbox::workspace_write`.
// The approval handler shows each request — the command, its working directory, the reason —
// and reads `y`/`n` from stdin. Anything but yes declines (fail closed; the end of input too).
//   * sync form: a plain-function handler. The SDK runs it on a separate thread, so it may
//     block on std::cin while the client goes on reading the server.
//   * --async:   a coroutine handler reading stdin asynchronously on the client's executor.
// Offline, the scripted model runs `touch approved.txt`; the sample checks that the file exists
// when you approved, and does not when you declined.
//
// Why the async form starts the client before it opens stdin: when AsyncCodex spawns the
// app-server, Boost.Process re-registers every descriptor of the io_context in the forked child
// (`notify_fork`), and that fails for stdin redirected from a file or /dev/null (epoll refuses
// such descriptors). See "Known issues" in README.md.
//
//   printf 'y\n' | interactive_approver [--async]
//   interactive_approver --online

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>

namespace {

namespace asio = boost::asio;
namespace samples = codex::samples;
namespace fs = std::filesystem;
using codex::testing::Response;

constexpr const char* kFile = "approved.txt";

void script(samples::SampleEnv& env) {
  env.script(Response::exec_command("touch approved.txt"));
  env.script(Response::message("Done: approved.txt is there."));
}

/// Where the thread works (and the file should appear).
std::string workspace(samples::SampleEnv& env) {
  return env.workspace().empty() ? fs::current_path().string() : env.workspace();
}

// snippet-begin: interactive_approver_prompt
/// Prints what the request asks for and the question; false for requests that are not
/// approvals (those get the SDK's fail-closed refusal).
bool show_request(const codex::ServerRequest& req) {
  if (req.kind == codex::ServerRequestKind::command_execution_approval) {
    std::cout << "\napproval requested: run a command\n"
              << "  command: " << samples::str(req.params, "command") << "\n"
              << "  cwd:     " << samples::str(req.params, "cwd") << "\n";
  } else if (req.kind == codex::ServerRequestKind::file_change_approval) {
    std::cout << "\napproval requested: apply a patch (item " << req.item_id << ")\n";
  } else {
    return false;
  }
  if (std::string reason = samples::str(req.params, "reason"); !reason.empty())
    std::cout << "  reason:  " << reason << "\n";
  std::cout << "allow? [y/N] " << std::flush;
  return true;
}

/// How the user answered (the handler of the sync form runs on an SDK thread).
std::atomic<int> g_approved{0};
std::atomic<int> g_declined{0};

/// The decision for the user's answer (printing it, since piped input is not echoed).
codex::ServerReply decide(const std::optional<std::string>& answer) {
  const bool yes = answer && (*answer == "y" || *answer == "Y" || *answer == "yes");
  ++(yes ? g_approved : g_declined);
  std::cout << (answer ? *answer : "<end of input>") << "\n"
            << (yes ? "approved" : "declined") << "\n";
  return codex::ServerReply::decision(yes ? codex::ApprovalDecision::accept
                                          : codex::ApprovalDecision::decline);
}

/// The blocking handler (runs on an SDK pool thread: blocking on stdin is fine).
codex::ServerReply ask_on_terminal(const codex::ServerRequest& req) {
  if (!show_request(req)) return codex::ServerReply::refuse(req);
  return decide(samples::read_line());
}

/// The coroutine handler (runs on the client's executor: it must not block).
asio::awaitable<codex::ServerReply> ask_on_terminal_async(
    codex::ServerRequest req, std::shared_ptr<samples::AsyncLineReader> in) {
  if (!show_request(req)) co_return codex::ServerReply::refuse(req);
  std::optional<std::string> answer = co_await in->read_line();
  co_return decide(answer);
}
// snippet-end: interactive_approver_prompt

codex::ThreadStartOptions thread_options(samples::SampleEnv& env, codex::ApprovalHandler handler) {
  return {.approval_mode = codex::ApprovalMode::ask_client_untrusted,
          .cwd = workspace(env),
          .sandbox = codex::Sandbox::workspace_write,
          .approval_handler = std::move(handler)};
}

void report(samples::SampleEnv& env, const codex::TurnResult& r) {
  std::string command_status = "<no command>";
  for (const auto& item : r.items)
    if (samples::item_type(item) == "commandExecution")
      command_status = samples::str(item, "status");
  const bool exists = fs::exists(fs::path(workspace(env)) / kFile);
  std::cout << "turn: " << codex::to_string(r.status) << ", command: " << command_status << "\n"
            << "assistant> " << r.final_response.value_or("<none>") << "\n"
            << kFile << (exists ? " exists" : " does not exist") << "\n";
  samples::check(r.status == codex::TurnStatus::completed, "the turn completed");
  if (env.online()) return;
  samples::check(g_approved + g_declined == 1, "the command's approval was asked on the terminal");
  if (g_approved > 0)
    samples::check(command_status == "completed" && exists, "the approved command ran");
  else
    samples::check(command_status == "declined" && !exists, "the declined command did not run");
}

constexpr const char* kPrompt = "Create an empty file named approved.txt here, using touch.";

int sync_main(samples::SampleEnv& env) {
  script(env);
  // snippet-begin: interactive_approver_sync
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start(thread_options(env, ask_on_terminal));
  codex::TurnResult result = thread.run(kPrompt);
  // snippet-end: interactive_approver_sync
  report(env, result);
  return 0;
}

asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  auto executor = co_await asio::this_coro::executor;
  // snippet-begin: interactive_approver_async
  codex::AsyncCodex codex(executor, env.config());
  co_await codex.start();  // spawn the app-server BEFORE stdin joins the io_context (see top)
  auto input = std::make_shared<samples::AsyncLineReader>(executor);
  // A plain lambda returning the coroutine (not a coroutine lambda, whose captures would have to
  // outlive every call).
  codex::ApprovalHandler handler = [input](codex::ServerRequest req) {
    return ask_on_terminal_async(std::move(req), input);
  };
  codex::ThreadStartOptions options = thread_options(env, std::move(handler));
  codex::AsyncThread thread = co_await codex.thread_start(std::move(options));
  codex::Input prompt(kPrompt);
  codex::TurnResult result = co_await thread.run(std::move(prompt));
  // snippet-end: interactive_approver_async
  report(env, result);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "interactive_approver", sync_main, async_main);
}
