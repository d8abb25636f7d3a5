// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file turn.hpp
/// @brief `TurnFailedError`: a failed turn, with its whole `TurnResult`.

#include <codex/errors.hpp>
#include <codex/results.hpp>

namespace codex {

/// Thrown by `run()` when the turn ends `failed`. Carries the whole result and its error
/// (message, codexErrorInfo, additionalDetails). Use `collect()` to get the result without it.
class TurnFailedError : public CodexError {
 public:
  /// Takes the failed turn's result; `what()` is `"turn <id> failed: <error message>"` (without
  /// the `: <error message>` part when the server sent no message).
  explicit TurnFailedError(TurnResult result);
  /// The whole result of the failed turn (items, usage, status, the raw turn).
  const TurnResult& result() const noexcept { return result_; }
  /// The turn's error (an empty message when the server sent none).
  const TurnError& error() const noexcept { return error_; }

 private:
  TurnResult result_;
  TurnError error_;
};

}  // namespace codex
