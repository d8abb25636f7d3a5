// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Internal: the router's map from turn id to turn state. Not installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace codex::detail {

struct TurnState;

/// Turn id → `TurnState`, looked up once per routed event.
///
/// An open-addressing table (linear probing, backward-shift erase) whose slot is one cache line
/// holding the id's hash, the state and, for ids of up to 39 bytes (real ids are 36-byte
/// UUIDs), the id itself. A lookup touches that one line: with a thousand turns interleaved,
/// `std::unordered_map` touched three or more that were no longer cached (the bucket's
/// predecessor node, the node, the key's heap buffer) and rehashed colliding keys.
class TurnIndex {
 public:
  TurnIndex() = default;
  TurnIndex(const TurnIndex&) = delete;
  TurnIndex& operator=(const TurnIndex&) = delete;

  /// The state of `id`, or null.
  TurnState* find(std::string_view id) const noexcept;
  /// The owning pointer of `id`'s state, or null.
  std::shared_ptr<TurnState> find_shared(std::string_view id) const noexcept;
  /// Adds `st` under `st->turn_id`, which must not be present yet.
  void insert(std::shared_ptr<TurnState> st);
  /// Removes `id` (when `only` is given, only if it maps to that state). True if removed.
  bool erase(std::string_view id, const TurnState* only = nullptr) noexcept;

  std::size_t size() const noexcept { return size_; }
  /// Slots allocated: grows to keep the table at most half full, shrinks back (to 16) once it is
  /// less than an eighth full, so a burst of turns does not hold memory for good.
  std::size_t capacity() const noexcept { return slots_.size(); }
  bool empty() const noexcept { return size_ == 0; }

  /// Calls `f(const std::shared_ptr<TurnState>&)` for every state, in no particular order. `f`
  /// must not insert or erase.
  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_)
      if (s.st) f(s.st);
  }

 private:
  static constexpr std::size_t kInlineKey = 39;
  struct alignas(64) Slot {
    std::uint64_t hash = 0;
    std::shared_ptr<TurnState> st;  // null: empty slot
    std::uint8_t len = 0;           // the id's length, when it is kept inline (else 0xff)
    char key[kInlineKey] = {};
  };
  static_assert(sizeof(Slot) == 64);

  static std::uint64_t hash_of(std::string_view id) noexcept;
  bool matches(const Slot& s, std::uint64_t h, std::string_view id) const noexcept;
  const Slot* lookup(std::string_view id) const noexcept;
  void rehash(std::size_t slots);
  void place(Slot&& s) noexcept;

  std::vector<Slot> slots_;  // size a power of two, at most half full
  std::size_t size_ = 0;
};

}  // namespace codex::detail
