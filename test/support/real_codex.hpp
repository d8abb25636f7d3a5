// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file real_codex.hpp
/// @brief Finding the pinned real `codex` binary and preparing an isolated environment for it.
///
/// The SDK spawns the process from the `codex::CodexConfig` that `RealCodexEnv::config()`
/// returns; nothing here starts a process.

#include <codex/config.hpp>

#include "mock_model_server.hpp"

#include <filesystem>
#include <string>

namespace codex::testing {

/// Path of the real pinned `codex` binary: `$CODEX_BIN` when set, else the project-local install
/// `<CODEX_CPP_CLI_DIR>/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/
/// bin/codex`. Throws std::runtime_error (saying to run scripts/setup.sh) when it is missing.
std::string find_pinned_codex();

/// A fresh temporary directory with `codex-home/` and `workspace/`, and the `CodexConfig` that
/// runs the real binary there against a `MockModelServer`, offline.
///
/// The directory is removed by the destructor. The server must outlive every client started from
/// `config()`.
class RealCodexEnv {
 public:
  /// A fresh `CODEX_HOME` and workspace.
  explicit RealCodexEnv(MockModelServer& server);
  /// A fresh workspace, but an existing `CODEX_HOME` (e.g. another env's `codex_home()`, for a
  /// second app-server process on the same home). That home is left in place by this destructor,
  /// so its owner must outlive this env.
  RealCodexEnv(MockModelServer& server, std::filesystem::path shared_codex_home);
  ~RealCodexEnv();
  RealCodexEnv(const RealCodexEnv&) = delete;
  RealCodexEnv& operator=(const RealCodexEnv&) = delete;

  /// `codex_bin` = find_pinned_codex(), the server's `--config` overrides, `cwd` = workspace(),
  /// `env` = {CODEX_HOME, RUST_LOG=warn, NO_COLOR=1, CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG=1},
  /// `env_remove` = {OPENAI_API_KEY, CODEX_API_KEY, OPENAI_BASE_URL}. Throws like
  /// find_pinned_codex().
  codex::CodexConfig config() const;

  /// The temporary directory (parent of the workspace, and of the home unless it is shared).
  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& workspace() const { return workspace_; }
  const std::filesystem::path& codex_home() const { return codex_home_; }

 private:
  MockModelServer& server_;
  std::filesystem::path root_;
  std::filesystem::path workspace_;
  std::filesystem::path codex_home_;
};

}  // namespace codex::testing
