// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// An allow-list approval policy: the thread asks the client before every command that is not
// known safe (`ApprovalMode::ask_client_untrusted`), and `codex::allow_commands` accepts only the
// listed command prefixes run inside the workspace; everything else is declined, fail-closed.
//
// Offline, the scripted model first runs `touch allowed.txt` (listed: accepted), then
// `rm -f allowed.txt` (not listed: declined). The sample checks that the file exists at the end.

#include <codex/codex.hpp>

#include "../common/sample_env.hpp"

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;
using codex::testing::Response;

int main(int argc, char** argv) try {
  codex::samples::SampleEnv env(argc, argv);
  env.script(Response::exec_command("touch allowed.txt"));
  env.script(Response::message("Created allowed.txt."));
  env.script(Response::exec_command("rm -f allowed.txt"));
  env.script(Response::message("The removal was declined."));
  const std::string root = env.workspace().empty() ? fs::current_path().string() : env.workspace();

  // snippet-begin: allow_list_policy
  codex::CodexConfig config = env.config();
  config.approval_handler = codex::allow_commands({
      .command_prefixes = {"touch", "ls", "git status"},
      .cwd_roots = {root},
  });
  codex::Codex codex(config);
  auto thread = codex.thread_start({.approval_mode = codex::ApprovalMode::ask_client_untrusted,
                                    .cwd = root,
                                    .sandbox = codex::Sandbox::workspace_write});
  auto print_decisions = [](const codex::Notification& ev) {
    if (ev.method == "item/completed") {
      const auto& item = ev.params.at("item").as_object();
      if (item.at("type") == "commandExecution")
        std::cout << "  " << item.at("command").as_string().c_str() << " -> "
                  << item.at("status").as_string().c_str() << "\n";
    }
  };
  auto first = thread.run("Create allowed.txt.", {}, print_decisions);
  auto second = thread.run("Now delete it.", {}, print_decisions);
  // snippet-end: allow_list_policy

  const bool exists = fs::exists(fs::path(root) / "allowed.txt");
  std::cout << "first turn: " << codex::to_string(first.status)
            << ", second turn: " << codex::to_string(second.status)
            << ", allowed.txt exists: " << (exists ? "yes" : "no") << "\n";
  const bool ok = env.online() || (first.status == codex::TurnStatus::completed &&
                                   second.status == codex::TurnStatus::completed && exists);
  std::cout << (ok ? "SAMPLE OK" : "SAMPLE FAILED") << "\n";
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "allow_list_policy: " << e.what() << "\n";
  std::cout << "SAMPLE FAILED\n";
  return 1;
}
