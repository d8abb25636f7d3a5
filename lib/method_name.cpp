// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/method_name.hpp>
#include <codex/types/notifications.hpp>
#include <codex/types/server_requests.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <utility>

namespace codex {

namespace {

// The known names: the schema's notifications and server requests, each kept once in a
// process-wide table that is never destroyed (a name read during static destruction stays
// valid). Lookup is one hash of the length and the first and last 8 bytes into an open-addressed
// table, then one comparison: cheaper than the allocation and copy it saves.
class KnownNames {
 public:
  KnownNames() {
    std::size_t n = 0;
    for (std::string_view m : types::known_notification_methods)
      add(m, n);
    for (std::string_view m : types::known_server_request_methods)
      add(m, n);
  }

  const std::string* find(std::string_view s) const noexcept {
    for (std::size_t i = slot(s);; i = (i + 1) & (kSlots - 1)) {
      const std::string* p = slots_[i];
      if (!p) return nullptr;
      if (p->size() == s.size() && same(p->data(), s.data(), s.size())) return p;
    }
  }

 private:
  static constexpr std::size_t kCapacity = 128;
  static constexpr std::size_t kSlots = 512;  // a power of two, at most 1/4 full

  static std::uint64_t load8(const char* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, p, n < 8 ? n : 8);
    return v;
  }
  // a[0, n) == b[0, n), by 8-byte words (the names are short; memcmp is a call).
  static bool same(const char* a, const char* b, std::size_t n) noexcept {
    if (n < 8) return std::memcmp(a, b, n) == 0;
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (load8(a + i, 8) != load8(b + i, 8)) return false;
    return load8(a + n - 8, 8) == load8(b + n - 8, 8);
  }
  static std::size_t slot(std::string_view s) noexcept {
    const std::size_t n = s.size();
    std::uint64_t h = load8(s.data(), n) * 0x9E3779B97F4A7C15ULL;
    if (n > 8) h ^= load8(s.data() + n - 8, 8) * 0xC2B2AE3D27D4EB4FULL;
    h ^= n;
    return static_cast<std::size_t>((h ^ (h >> 31)) >> 23) & (kSlots - 1);
  }

  void add(std::string_view m, std::size_t& n) {
    if (find(m)) return;
    if (n == kCapacity) return;  // (a larger schema: the rest are simply held per event)
    names_[n] = std::string(m);
    std::size_t i = slot(m);
    while (slots_[i])
      i = (i + 1) & (kSlots - 1);
    slots_[i] = &names_[n++];
  }

  std::array<std::string, kCapacity> names_;
  std::array<const std::string*, kSlots> slots_{};
};

const KnownNames& known_names() {
  static const KnownNames* const table = new KnownNames;  // never destroyed, see above
  return *table;
}

// The word for an owned string: its address, marked by the low bit.
std::uintptr_t owned_bits(std::string* s) noexcept {
  return reinterpret_cast<std::uintptr_t>(s) | 1U;
}

// The word for `name` (a std::string_view or a std::string to move from): 0 for the empty name,
// the shared copy of a known one, or a string of its own.
template <class Name>
std::uintptr_t bits_for(Name&& name) {
  if (name.empty()) return 0;
  if (const std::string* known = known_names().find(name))
    return reinterpret_cast<std::uintptr_t>(known);
  return owned_bits(new std::string(std::forward<Name>(name)));
}

}  // namespace

MethodName::MethodName(std::string_view name) : bits_(bits_for(name)) {}

MethodName::MethodName(std::string&& name) : bits_(bits_for(std::move(name))) {}

std::uintptr_t MethodName::clone(std::uintptr_t bits) {
  const auto* s = reinterpret_cast<const std::string*>(bits & ~std::uintptr_t{1});
  return owned_bits(new std::string(*s));
}

void MethodName::release(std::uintptr_t bits) noexcept {
  delete reinterpret_cast<std::string*>(bits & ~std::uintptr_t{1});
}

const std::string& MethodName::empty_string() noexcept {
  static const std::string empty;
  return empty;
}

std::string MethodName::cat(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a).append(b);
  return out;
}

std::ostream& operator<<(std::ostream& os, const MethodName& m) {
  return os << m.str();
}

}  // namespace codex
