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
/// An open-addressing table (linear probing, backward-shift erase) of 16-byte slots: the id's
/// hash and the state. The owning pointers live in a parallel array that lookups do not read.
/// With a thousand turns the slots take 32 KiB, which every event touches and so stays cached; a
/// match is confirmed against the state's own `turn_id`, in a state that routing the event
/// reads anyway. (`std::unordered_map` touched three or more lines that were no longer cached:
/// the bucket's predecessor node, the node, the key's heap buffer. A table of 64-byte slots that
/// kept the id inline touched one, but the table itself no longer stayed cached.)
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
    for (const auto& o : owners_)
      if (o) f(o);
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    TurnState* st = nullptr;  // null: empty slot
  };
  static_assert(sizeof(Slot) == 16);

  static std::uint64_t hash_of(std::string_view id) noexcept;
  std::size_t lookup(std::string_view id) const noexcept;  // npos if absent
  void rehash(std::size_t slots);
  void place(Slot s, std::shared_ptr<TurnState>&& owner) noexcept;

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::vector<Slot> slots_;                         // size a power of two, at most half full
  std::vector<std::shared_ptr<TurnState>> owners_;  // owners_[i] owns slots_[i].st
  std::size_t size_ = 0;
};

}  // namespace codex::detail
