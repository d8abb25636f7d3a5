// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

// What every sample shares: offline by default (the real `codex app-server` against a scripted
// model server on 127.0.0.1, with a fresh CODEX_HOME), or `--online` to use your own Codex login
// or OPENAI_API_KEY with the default configuration.

#include <codex/codex.hpp>

#include "mock_model_server.hpp"
#include "real_codex.hpp"

#include <cstring>
#include <iostream>
#include <memory>
#include <string>

namespace codex::samples {

class SampleEnv {
 public:
  SampleEnv(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], "--online") == 0) online_ = true;
    if (!online_) {
      server_ = std::make_unique<testing::MockModelServer>();
      env_ = std::make_unique<testing::RealCodexEnv>(*server_);
    }
  }

  bool online() const noexcept { return online_; }

  /// Queues what the scripted model answers next (ignored with --online).
  void script(testing::Response r) {
    if (server_) server_->enqueue(std::move(r));
  }

  /// The scripted model server (null with --online).
  testing::MockModelServer* model() const noexcept { return server_.get(); }

  /// The workspace the offline server's app-server runs in (empty with --online).
  std::string workspace() const { return env_ ? env_->workspace().string() : std::string(); }

  CodexConfig config() const {
    CodexConfig cfg = env_ ? env_->config() : CodexConfig{};
    cfg.client_name = "codex_cpp_samples";
    return cfg;
  }

 private:
  bool online_ = false;
  std::unique_ptr<testing::MockModelServer> server_;
  std::unique_ptr<testing::RealCodexEnv> env_;
};

/// Prints the `TurnResult` summary every sample ends with.
inline void print_summary(const TurnResult& r) {
  std::cout << "status: " << to_string(r.status);
  if (r.duration_ms) std::cout << "  duration: " << *r.duration_ms << " ms";
  std::cout << "  items: " << r.items.size();
  if (r.usage)
    std::cout << "  tokens: " << r.usage->last.total_tokens << " (in " << r.usage->last.input_tokens
              << ", out " << r.usage->last.output_tokens << ")";
  if (r.error) std::cout << "\nerror: " << r.error->message << " [" << r.error->kind() << "]";
  std::cout << "\n";
}

}  // namespace codex::samples
