// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "framer.hpp"

#include <algorithm>
#include <cstring>

namespace codex::detail {

LineFramer::LineFramer(std::size_t max_line, std::size_t initial)
    : max_line_(max_line), buf_(std::max<std::size_t>(initial, 1024), '\0') {}

void LineFramer::compact() {
  if (begin_ == 0) return;
  std::size_t n = end_ - begin_;
  if (n) std::memmove(buf_.data(), buf_.data() + begin_, n);
  end_ = n;
  begin_ = 0;
}

char* LineFramer::prepare(std::size_t min_free, std::size_t& available) {
  if (buf_.size() - end_ < min_free) {
    compact();
    if (buf_.size() - end_ < min_free) {
      std::size_t want = std::max(buf_.size() * 2, end_ + min_free);
      buf_.resize(want);
    }
  }
  available = buf_.size() - end_;
  return buf_.data() + end_;
}

void LineFramer::commit(std::size_t n, MessageSink& sink) {
  end_ += n;
  for (;;) {
    const char* base = buf_.data();
    const char* from = base + begin_ + scanned_;
    const char* nl = static_cast<const char*>(std::memchr(from, '\n', end_ - begin_ - scanned_));
    if (!nl) {
      scanned_ = end_ - begin_;
      if (skipping_) {
        skipped_ += end_ - begin_;
        begin_ = end_ = scanned_ = 0;
      } else if (scanned_ > max_line_) {
        skipping_ = true;
        skipped_ = scanned_;
        begin_ = end_ = scanned_ = 0;
      }
      break;
    }
    std::size_t len = static_cast<std::size_t>(nl - (base + begin_));
    if (skipping_) {
      skipping_ = false;
      sink.on_oversize(skipped_ + len);
      skipped_ = 0;
    } else if (len > max_line_) {
      sink.on_oversize(len);
    } else {
      std::size_t l = len;
      if (l && base[begin_ + l - 1] == '\r') --l;
      if (l) sink.on_message(std::string_view(base + begin_, l));
    }
    begin_ += len + 1;
    scanned_ = 0;
  }
  if (begin_ == end_) begin_ = end_ = 0;
  // Shrink a buffer that grew for one long line.
  if (end_ == 0 && buf_.size() > 4 * 1024 * 1024) buf_.resize(64 * 1024), buf_.shrink_to_fit();
}

void LineFramer::feed(std::string_view data, MessageSink& sink) {
  while (!data.empty()) {
    std::size_t avail = 0;
    char* p = prepare(std::min<std::size_t>(data.size(), 64 * 1024), avail);
    std::size_t n = std::min(avail, data.size());
    std::memcpy(p, data.data(), n);
    commit(n, sink);
    data.remove_prefix(n);
  }
}

}  // namespace codex::detail
