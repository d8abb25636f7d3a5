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

std::size_t TurnIndex::lookup(std::string_view id) const noexcept {
  if (size_ == 0) return npos;
  const std::uint64_t h = hash_of(id);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (!s.st) return npos;  // never full: at most half the slots are used
    if (s.hash == h && s.st->turn_id.size() == id.size() &&
        std::memcmp(s.st->turn_id.data(), id.data(), id.size()) == 0)
      return i;
  }
}

TurnState* TurnIndex::find(std::string_view id) const noexcept {
  const std::size_t i = lookup(id);
  return i == npos ? nullptr : slots_[i].st;
}

std::shared_ptr<TurnState> TurnIndex::find_shared(std::string_view id) const noexcept {
  const std::size_t i = lookup(id);
  return i == npos ? nullptr : owners_[i];
}

void TurnIndex::place(Slot s, std::shared_ptr<TurnState>&& owner) noexcept {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = s.hash & mask;
  while (slots_[i].st)
    i = (i + 1) & mask;
  slots_[i] = s;
  owners_[i] = std::move(owner);
}

void TurnIndex::rehash(std::size_t slots) {
  std::vector<Slot> old(slots);
  std::vector<std::shared_ptr<TurnState>> old_owners(slots);
  old.swap(slots_);
  old_owners.swap(owners_);
  for (std::size_t i = 0; i < old.size(); ++i)
    if (old[i].st) place(old[i], std::move(old_owners[i]));
}

void TurnIndex::insert(std::shared_ptr<TurnState> st) {
  if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  const Slot s{hash_of(st->turn_id), st.get()};
  place(s, std::move(st));
  ++size_;
}

bool TurnIndex::erase(std::string_view id, const TurnState* only) noexcept {
  const std::size_t found = lookup(id);
  if (found == npos || (only && slots_[found].st != only)) return false;
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = found;
  // The state may own `id` (its turn_id): release it only once the slot is no longer read.
  std::shared_ptr<TurnState> keep = std::move(owners_[hole]);
  // Backward shift: move later entries of the probe run into the hole when their home slot
  // allows it, so lookups never need tombstones.
  for (std::size_t i = (hole + 1) & mask; slots_[i].st; i = (i + 1) & mask) {
    const std::size_t home = slots_[i].hash & mask;
    // Movable when `home` is not cyclically within (hole, i].
    const bool stays = (hole <= i) ? (hole < home && home <= i) : (hole < home || home <= i);
    if (stays) continue;
    slots_[hole] = slots_[i];
    owners_[hole] = std::move(owners_[i]);
    hole = i;
  }
  slots_[hole] = Slot();
  owners_[hole].reset();
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
