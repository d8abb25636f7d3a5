// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// docs/approvals.md quotes this file: the fields of `codex::AllowList`. Compiled in CI (target
// `readme_snippets`), never run.
#include <codex/approval_policies.hpp>
#include <codex/config.hpp>

codex::CodexConfig allow_list_config() {
  // snippet-begin: allow_list_fields
  codex::AllowList list{
      // A command is accepted when every inner command starts with one of these at a word
      // boundary ("git status" allows `git status -s`, not `git statusx` nor `git stash`).
      // Empty entries are ignored.
      .command_prefixes = {"git status", "ls", "touch"},
      // When not empty, the command's cwd must be inside one of these directories (compared on
      // normalized absolute paths; symlinks of existing parts are resolved).
      .cwd_roots = {"/srv/checkout"},
      // Accept file changes whose every path (and move target) is inside one of cwd_roots.
      .allow_file_changes_under_roots = true,
  };
  codex::CodexConfig config;
  config.approval_handler = codex::allow_commands(std::move(list));
  // snippet-end: allow_list_fields
  return config;
}
