// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "turn_index.hpp"

#include "engine.hpp"

#include <cstring>
#include <functional>
#include <utility>

namespace codex::detail {

std::uint64_t TurnIndex::hash_of(std::string_view id) noexcept {
  return std::hash<std::string_view>{}(id);
}

bool TurnIndex::matches(const Slot& s, std::uint64_t h, std::string_view id) const noexcept {
  if (s.hash != h) return false;
  if (s.len != 0xff) return s.len == id.size() && std::memcmp(s.key, id.data(), id.size()) == 0;
  return s.st->turn_id == id;
}

const TurnIndex::Slot* TurnIndex::lookup(std::string_view id) const noexcept {
  if (size_ == 0) return nullptr;
  const std::uint64_t h = hash_of(id);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (!s.st) return nullptr;  // never full: at most half the slots are used
    if (matches(s, h, id)) return &s;
  }
}

TurnState* TurnIndex::find(std::string_view id) const noexcept {
  const Slot* s = lookup(id);
  return s ? s->st.get() : nullptr;
}

std::shared_ptr<TurnState> TurnIndex::find_shared(std::string_view id) const noexcept {
  const Slot* s = lookup(id);
  return s ? s->st : nullptr;
}

void TurnIndex::place(Slot&& s) noexcept {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = s.hash & mask;
  while (slots_[i].st)
    i = (i + 1) & mask;
  slots_[i] = std::move(s);
}

void TurnIndex::rehash(std::size_t slots) {
  std::vector<Slot> old(slots);
  old.swap(slots_);
  for (auto& s : old)
    if (s.st) place(std::move(s));
}

void TurnIndex::insert(std::shared_ptr<TurnState> st) {
  if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  const std::string_view id = st->turn_id;
  Slot s;
  s.hash = hash_of(id);
  if (id.size() <= kInlineKey) {
    s.len = static_cast<std::uint8_t>(id.size());
    std::memcpy(s.key, id.data(), id.size());
  } else {
    s.len = 0xff;
  }
  s.st = std::move(st);
  place(std::move(s));
  ++size_;
}

bool TurnIndex::erase(std::string_view id, const TurnState* only) noexcept {
  const Slot* found = lookup(id);
  if (!found || (only && found->st.get() != only)) return false;
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = static_cast<std::size_t>(found - slots_.data());
  // The state may own `id` (its turn_id): release it only once the slot is no longer read.
  std::shared_ptr<TurnState> keep = std::move(slots_[hole].st);
  // Backward shift: move later entries of the probe run into the hole when their home slot
  // allows it, so lookups never need tombstones.
  for (std::size_t i = (hole + 1) & mask; slots_[i].st; i = (i + 1) & mask) {
    const std::size_t home = slots_[i].hash & mask;
    // Movable when `home` is not cyclically within (hole, i].
    const bool stays = (hole <= i) ? (hole < home && home <= i) : (hole < home || home <= i);
    if (stays) continue;
    slots_[hole] = std::move(slots_[i]);
    hole = i;
  }
  slots_[hole] = Slot();
  --size_;
  if (slots_.size() > 16 && size_ * 8 < slots_.size()) {
    try {
      rehash(slots_.size() / 2);
    } catch (...) {
      // Out of memory: keep the bigger table.
    }
  }
  return true;
}

}  // namespace codex::detail
