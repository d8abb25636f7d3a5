// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "real_codex.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#ifndef CODEX_TEST_CLI_DIR
#define CODEX_TEST_CLI_DIR ""
#endif

namespace codex::testing {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBinaryInPackage =
    "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex";

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// A new, uniquely named directory under the system temp dir.
fs::path make_unique_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "codex-cpp-test-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  return fs::path(buf.data());
}

}  // namespace

std::string find_pinned_codex() {
  if (const char* env = std::getenv("CODEX_BIN"); env && *env) {
    if (!is_executable_file(env))
      throw std::runtime_error(std::string("CODEX_BIN is set to '") + env +
                               "', which is not an executable file");
    return env;
  }
  const fs::path dir = CODEX_TEST_CLI_DIR;
  const fs::path bin = dir / kBinaryInPackage;
  if (!dir.empty() && is_executable_file(bin)) return bin.string();
  throw std::runtime_error(
      "the pinned Codex CLI (" + std::string(codex::pinned_cli_version) + ") was not found at '" +
      bin.string() +
      "'. Run scripts/setup.sh to install it into the project's .codex-cli folder, or set "
      "CODEX_BIN to a codex binary.");
}

RealCodexEnv::RealCodexEnv(MockModelServer& server) : server_(server) {
  root_ = make_unique_temp_dir();
  workspace_ = root_ / "workspace";
  codex_home_ = root_ / "codex-home";
  fs::create_directories(workspace_);
  fs::create_directories(codex_home_);
}

RealCodexEnv::RealCodexEnv(MockModelServer& server, fs::path shared_codex_home) : server_(server) {
  if (!fs::is_directory(shared_codex_home))
    throw std::runtime_error("shared CODEX_HOME '" + shared_codex_home.string() +
                             "' is not a directory");
  root_ = make_unique_temp_dir();
  workspace_ = root_ / "workspace";
  codex_home_ = std::move(shared_codex_home);
  fs::create_directories(workspace_);
}

RealCodexEnv::~RealCodexEnv() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

codex::CodexConfig RealCodexEnv::config() const {
  codex::CodexConfig cfg;
  // snippet-begin: testing_real_codex_config
  cfg.codex_bin = find_pinned_codex();
  cfg.config_overrides = server_.codex_config_overrides();
  cfg.cwd = workspace_.string();
  cfg.env = {
      {"CODEX_HOME", codex_home_.string()},
      {"RUST_LOG", "warn"},
      {"NO_COLOR", "1"},
      {"CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG", "1"},
  };
  cfg.env_remove = {"OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"};
  // snippet-end: testing_real_codex_config
  return cfg;
}

}  // namespace codex::testing
