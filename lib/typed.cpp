// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/typed.hpp>
#include <codex/types/support.hpp>

namespace codex {

types::Notification typed(const Notification& event) {
  return types::parse_notification(event.method, event.params);
}

types::Notification typed(Notification&& event) {
  return types::parse_notification(std::move(event.method), std::move(event.params));
}

std::vector<types::ThreadItem> typed_items(const TurnResult& result) {
  std::vector<types::ThreadItem> out;
  out.reserve(result.items.size());
  for (const auto& item : result.items)
    out.push_back(types::parse<types::ThreadItem>(item));
  return out;
}

std::optional<types::ThreadTokenUsage> typed_usage(const TurnResult& result) {
  if (!result.usage) return std::nullopt;
  auto breakdown = [](const TokenUsageBreakdown& b) {
    types::TokenUsageBreakdown t;
    t.total_tokens = b.total_tokens;
    t.input_tokens = b.input_tokens;
    t.cached_input_tokens = b.cached_input_tokens;
    t.cache_write_input_tokens = b.cache_write_input_tokens;
    t.output_tokens = b.output_tokens;
    t.reasoning_output_tokens = b.reasoning_output_tokens;
    return t;
  };
  types::ThreadTokenUsage u;
  u.total = breakdown(result.usage->total);
  u.last = breakdown(result.usage->last);
  if (result.usage->model_context_window)
    u.model_context_window = *result.usage->model_context_window;
  return u;
}

types::Turn typed_turn(const TurnResult& result) {
  return types::parse<types::Turn>(result.turn);
}

}  // namespace codex
