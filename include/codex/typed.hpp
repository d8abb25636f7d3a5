// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file typed.hpp
/// @brief From the SDK's raw events and results to the typed protocol models (`codex::types`).
///
/// The hot path keeps each event as the parsed JSON it arrived as (one parse per line, moved to
/// the consumer). These functions give the typed view on demand; they never throw on a newer
/// server's output (unknown fields are ignored, unknown enum values and item kinds are kept).

#include <codex/results.hpp>
#include <codex/types/core.hpp>
#include <codex/types/notifications.hpp>

#include <optional>
#include <vector>

namespace codex {

/// The typed notification (method, typed payload, raw params) of an event. Never throws on
/// content: an unknown method gives a `std::monostate` payload, and `well_formed` is false when
/// the params of a known method do not match its schema.
types::Notification typed(const Notification& event);
/// @overload
/// Moves the method and params out of `event` instead of copying them.
types::Notification typed(Notification&& event);

/// The turn's items (`TurnResult::items`) as typed `ThreadItem`s, in order (an unknown item kind
/// is kept as `UnknownVariant`).
std::vector<types::ThreadItem> typed_items(const TurnResult& result);

/// The turn's token usage (`TurnResult::usage`) as the typed `ThreadTokenUsage` (nullopt when
/// the turn reported none).
std::optional<types::ThreadTokenUsage> typed_usage(const TurnResult& result);

/// The raw `turn/completed` turn (`TurnResult::turn`) as the typed `Turn` (parsed leniently).
types::Turn typed_turn(const TurnResult& result);

}  // namespace codex
