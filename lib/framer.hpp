// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Internal: newline-delimited framing, sans I/O.
#pragma once

#include <codex/transport.hpp>

#include <cstddef>
#include <string>

namespace codex::detail {

/// Splits a byte stream into lines. Feed it what was read with `prepare()`/`commit()`; complete
/// lines (without '\n', a trailing '\r' removed) go to the sink. A line longer than `max_line`
/// is skipped up to its newline and reported with `on_oversize`.
class LineFramer {
 public:
  explicit LineFramer(std::size_t max_line, std::size_t initial = 64 * 1024);

  /// Space to read into (at least `min_free` bytes).
  char* prepare(std::size_t min_free, std::size_t& available);
  /// Hands `n` bytes just read into `prepare()`'s space to the framer.
  void commit(std::size_t n, MessageSink& sink);
  /// Convenience for tests: copies `data` in and frames it.
  void feed(std::string_view data, MessageSink& sink);
  /// Bytes of an incomplete line held.
  std::size_t pending() const noexcept { return end_ - begin_; }

 private:
  void compact();
  std::size_t max_line_;
  std::string buf_;
  std::size_t begin_ = 0;    // start of the current (incomplete) line
  std::size_t scanned_ = 0;  // bytes from begin_ already known to hold no '\n'
  std::size_t end_ = 0;      // end of valid data
  bool skipping_ = false;    // inside an oversize line
  std::size_t skipped_ = 0;
};

}  // namespace codex::detail
