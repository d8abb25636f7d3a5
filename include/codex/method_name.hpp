// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file method_name.hpp
/// @brief `MethodName`: an event's method, read like a `std::string`, with no copy per event.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

namespace codex {

/// The method of an event (`Notification::method`), read like a `const std::string`.
///
/// Nearly every event carries a method the schema knows (`item/agentMessage/delta`,
/// `turn/completed`, ...; `MethodName::is_known`). Such a name refers to one shared static copy,
/// so reading an event costs no allocation and no copy for its method. Any other name is held
/// in a string of its own. The object is one word.
///
/// Either way it converts to `const std::string&` and `std::string_view`, compares with strings
/// (`ev.method == "turn/completed"`), concatenates (`"event " + ev.method`), streams, formats
/// with fmt/spdlog, hashes, and has the read-only members of a string. `str()` is the
/// `std::string` itself for anything else.
///
/// @code
/// std::map<std::string, int> counts;
/// for (auto& ev : turn.stream()) {
///   ++counts[ev.method];                          // a std::string key
///   if (ev.method.starts_with("item/")) { ... }
///   if (ev.method == "turn/completed") break;
/// }
/// @endcode
class MethodName {
 public:
  using size_type = std::string::size_type;             ///< as `std::string`
  using const_iterator = std::string::const_iterator;   ///< as `std::string`
  static constexpr size_type npos = std::string::npos;  ///< as `std::string::npos`

  /// An empty name.
  MethodName() noexcept = default;
  /// `name` (a literal converts implicitly; a null pointer is the empty name).
  MethodName(const char* name)  // NOLINT(google-explicit-constructor): a literal reads as a name
      : MethodName(name ? std::string_view(name) : std::string_view()) {}
  /// `name`: a known one refers to the shared copy, any other is copied in.
  ///
  /// Explicit, as from the strings below: a name converts to a string implicitly, not the other
  /// way, so `cond ? std::string(...) : ev.method` stays a `std::string`.
  explicit MethodName(std::string_view name);
  /// `name`: a known one refers to the shared copy, any other is copied in.
  explicit MethodName(const std::string& name) : MethodName(std::string_view(name)) {}
  /// `name`: a known one refers to the shared copy, any other is moved in.
  explicit MethodName(std::string&& name);

  /// Copies: a known name is shared, any other is copied.
  MethodName(const MethodName& other) : bits_(other.owned() ? clone(other.bits_) : other.bits_) {}
  /// Moves: `other` is left empty.
  MethodName(MethodName&& other) noexcept : bits_(std::exchange(other.bits_, 0)) {}
  /// Copies: a known name is shared, any other is copied.
  MethodName& operator=(const MethodName& other) {
    if (this != &other) *this = MethodName(other);
    return *this;
  }
  /// Moves: `other` is left empty.
  MethodName& operator=(MethodName&& other) noexcept {
    if (this != &other) {
      if (owned()) release(bits_);
      bits_ = std::exchange(other.bits_, 0);
    }
    return *this;
  }
  /// Frees a name held here (a known one is shared, not freed).
  ~MethodName() {
    if (owned()) release(bits_);
  }

  /// Assigns `name` (as the constructors).
  MethodName& operator=(const char* name) { return *this = MethodName(name); }
  /// Assigns `name` (as the constructors).
  MethodName& operator=(std::string_view name) { return *this = MethodName(name); }
  /// Assigns `name` (as the constructors).
  MethodName& operator=(const std::string& name) { return *this = MethodName(name); }
  /// Assigns `name` (as the constructors).
  MethodName& operator=(std::string&& name) { return *this = MethodName(std::move(name)); }

  /// The name as a `std::string` (the shared copy, or the one held here).
  const std::string& str() const noexcept { return bits_ ? *ptr() : empty_string(); }
  /// The name as a `std::string_view`.
  std::string_view view() const noexcept { return str(); }
  /// Reads as `const std::string&` (`const std::string& s = ev.method;`, a `std::string` key).
  operator const std::string&() const noexcept { return str(); }  // NOLINT
  /// Reads as `std::string_view`.
  operator std::string_view() const noexcept { return str(); }  // NOLINT

  /// True when the name is one of the schema's notifications or server requests, held as a
  /// reference to the shared copy.
  bool is_known() const noexcept { return bits_ != 0 && !owned(); }

  /// The characters, null-terminated.
  const char* c_str() const noexcept { return str().c_str(); }
  /// The characters, null-terminated.
  const char* data() const noexcept { return str().data(); }
  /// The length.
  size_type size() const noexcept { return str().size(); }
  /// The length.
  size_type length() const noexcept { return str().size(); }
  /// True for the empty name.
  bool empty() const noexcept { return str().empty(); }
  /// The first character.
  const_iterator begin() const noexcept { return str().begin(); }
  /// Past the last character.
  const_iterator end() const noexcept { return str().end(); }
  /// The first character.
  const_iterator cbegin() const noexcept { return str().cbegin(); }
  /// Past the last character.
  const_iterator cend() const noexcept { return str().cend(); }
  /// The character at `i` (unchecked).
  char operator[](size_type i) const noexcept { return str()[i]; }
  /// The character at `i`; throws `std::out_of_range` past the end.
  char at(size_type i) const { return str().at(i); }
  /// True when the name starts with `s`.
  bool starts_with(std::string_view s) const noexcept { return view().starts_with(s); }
  /// True when the name starts with `c`.
  bool starts_with(char c) const noexcept { return view().starts_with(c); }
  /// True when the name ends with `s`.
  bool ends_with(std::string_view s) const noexcept { return view().ends_with(s); }
  /// True when the name ends with `c`.
  bool ends_with(char c) const noexcept { return view().ends_with(c); }
  /// The first position of `s` from `pos`, or `npos`.
  size_type find(std::string_view s, size_type pos = 0) const noexcept {
    return view().find(s, pos);
  }
  /// The first position of `c` from `pos`, or `npos`.
  size_type find(char c, size_type pos = 0) const noexcept { return view().find(c, pos); }
  /// The last position of `s` up to `pos`, or `npos`.
  size_type rfind(std::string_view s, size_type pos = npos) const noexcept {
    return view().rfind(s, pos);
  }
  /// The last position of `c` up to `pos`, or `npos`.
  size_type rfind(char c, size_type pos = npos) const noexcept { return view().rfind(c, pos); }
  /// The characters `[pos, pos + n)` as a `std::string`.
  std::string substr(size_type pos = 0, size_type n = npos) const { return str().substr(pos, n); }
  /// As `std::string_view::compare`.
  int compare(std::string_view s) const noexcept { return view().compare(s); }

  /// Same characters.
  friend bool operator==(const MethodName& a, const MethodName& b) noexcept {
    return a.view() == b.view();
  }
  /// Same characters.
  friend bool operator==(const MethodName& a, std::string_view b) noexcept { return a.view() == b; }
  /// Same characters.
  friend bool operator==(const MethodName& a, const std::string& b) noexcept {
    return a.view() == b;
  }
  /// Same characters.
  friend bool operator==(const MethodName& a, const char* b) noexcept { return a.view() == b; }
  /// Ordered as the strings.
  friend std::strong_ordering operator<=>(const MethodName& a, const MethodName& b) noexcept {
    return a.view() <=> b.view();
  }
  /// Ordered as the strings.
  friend std::strong_ordering operator<=>(const MethodName& a, std::string_view b) noexcept {
    return a.view() <=> b;
  }
  /// Ordered as the strings.
  friend std::strong_ordering operator<=>(const MethodName& a, const std::string& b) noexcept {
    return a.view() <=> std::string_view(b);
  }
  /// Ordered as the strings.
  friend std::strong_ordering operator<=>(const MethodName& a, const char* b) noexcept {
    return a.view() <=> std::string_view(b);
  }

  /// The concatenation.
  friend std::string operator+(const MethodName& a, std::string_view b) { return cat(a.view(), b); }
  /// The concatenation.
  friend std::string operator+(const MethodName& a, const std::string& b) {
    return cat(a.view(), b);
  }
  /// The concatenation.
  friend std::string operator+(const MethodName& a, const char* b) { return cat(a.view(), b); }
  /// The concatenation.
  friend std::string operator+(const MethodName& a, char b) { return cat(a.view(), {&b, 1}); }
  /// The concatenation.
  friend std::string operator+(std::string_view a, const MethodName& b) { return cat(a, b.view()); }
  /// The concatenation.
  friend std::string operator+(const std::string& a, const MethodName& b) {
    return cat(a, b.view());
  }
  /// The concatenation.
  friend std::string operator+(std::string&& a, const MethodName& b) {
    return std::move(a.append(b.view()));
  }
  /// The concatenation.
  friend std::string operator+(const char* a, const MethodName& b) { return cat(a, b.view()); }
  /// The concatenation.
  friend std::string operator+(char a, const MethodName& b) { return cat({&a, 1}, b.view()); }

  /// Writes the name.
  friend std::ostream& operator<<(std::ostream& os, const MethodName& m);

 private:
  static std::string cat(std::string_view a, std::string_view b);
  static std::uintptr_t clone(std::uintptr_t bits);
  static void release(std::uintptr_t bits) noexcept;
  static const std::string& empty_string() noexcept;

  bool owned() const noexcept { return (bits_ & 1U) != 0; }
  const std::string* ptr() const noexcept {
    return reinterpret_cast<const std::string*>(bits_ & ~std::uintptr_t{1});
  }

  // One word: 0 for the empty name; else the address of a known name's shared std::string, or
  // of a std::string of our own allocated for any other name, marked by the low bit.
  std::uintptr_t bits_ = 0;
};

}  // namespace codex

/// Hashes as the name's `std::string_view`.
template <>
struct std::hash<codex::MethodName> {
  /// `std::hash<std::string_view>` of the name.
  std::size_t operator()(const codex::MethodName& m) const noexcept {
    return std::hash<std::string_view>{}(m.view());
  }
};
