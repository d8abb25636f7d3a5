// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

// Small helpers shared by the numbered samples: one binary per example with a sync form (the
// default) and a coroutine form (`--async`), self-checks that make a smoke test fail loudly, JSON
// accessors, a generated PNG, and an asynchronous stdin line reader.
//
// Every sample prints `SAMPLE OK` as its very last line when it succeeded (and exits 0), or
// `SAMPLE FAILED: <why>` (and exits 1). CTest ignores the exit code when a pass regex is set, so
// the smoke tests require `SAMPLE OK`.

#include <codex/codex.hpp>

#include "sample_env.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace codex::samples {

namespace json = boost::json;

// ---------------------------------------------------------------- command line

/// True when `flag` (e.g. `--async`) is on the command line.
inline bool has_flag(int argc, char** argv, std::string_view flag) {
  for (int i = 1; i < argc; ++i)
    if (flag == argv[i]) return true;
  return false;
}

/// The value after `name` (`--port 8080`), if any.
inline std::optional<std::string> flag_value(int argc, char** argv, std::string_view name) {
  for (int i = 1; i + 1 < argc; ++i)
    if (name == argv[i]) return std::string(argv[i + 1]);
  return std::nullopt;
}

// ---------------------------------------------------------------- self-checks

/// Thrown by `check()`; the sample then prints `SAMPLE FAILED` and exits 1.
class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A self-check of the sample (what the smoke test relies on). Prints `[check] what` when it
/// holds, throws `CheckFailed` otherwise.
inline void check(bool ok, std::string_view what) {
  if (!ok) throw CheckFailed("check failed: " + std::string(what));
  std::cout << "[check] " << what << "\n";
}

// ---------------------------------------------------------------- running a sample

namespace detail {
inline int report(int rc, std::string_view why = {}) {
  std::cout.flush();
  if (rc == 0) {
    std::cout << "SAMPLE OK" << std::endl;
  } else {
    std::cout << "SAMPLE FAILED: " << (why.empty() ? std::string_view("exit code ") : why);
    if (why.empty()) std::cout << rc;
    std::cout << std::endl;
  }
  return rc == 0 ? 0 : 1;
}

inline std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const codex::TransportClosedError& ex) {
    std::string s = ex.what();
    if (!ex.stderr_tail().empty()) s += "\n--- app-server stderr ---\n" + ex.stderr_tail();
    return s;
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}
}  // namespace detail

/// Runs a two-form sample: `sync_main(env)` (returns int) by default, or the coroutine
/// `async_main(env)` (returns `awaitable<int>`) on a fresh io_context with `--async`. The verdict
/// is printed after everything (clients, io_context, scripted model, temporary CODEX_HOME) was
/// torn down, so a failure during the teardown cannot hide behind `SAMPLE OK`.
template <class SyncMain, class AsyncMain>
int run_sample(int argc, char** argv, std::string_view name, SyncMain sync_main,
               AsyncMain async_main) {
  const bool async = has_flag(argc, argv, "--async");
  int rc = 1;
  std::string why;
  try {
    SampleEnv env(argc, argv);
    std::cout << "== " << name << " [" << (async ? "async" : "sync") << ", "
              << (env.online() ? "online" : "offline: scripted model on 127.0.0.1") << "] ==\n";
    if (!async) {
      rc = sync_main(env);
    } else {
      boost::asio::io_context ioc;
      boost::asio::co_spawn(ioc, async_main(env), [&](std::exception_ptr e, int r) {
        if (e)
          why = detail::describe(e);
        else
          rc = r;
      });
      ioc.run();
    }
  } catch (...) {
    why = detail::describe(std::current_exception());
  }
  return why.empty() ? detail::report(rc) : detail::report(1, why);
}

/// Runs a one-form sample (`main_fn(env)` returns int).
template <class Main>
int run_sample(int argc, char** argv, std::string_view name, Main main_fn) {
  int rc = 1;
  std::string why;
  try {
    SampleEnv env(argc, argv);
    std::cout << "== " << name << " ["
              << (env.online() ? "online" : "offline: scripted model on 127.0.0.1") << "] ==\n";
    rc = main_fn(env);
  } catch (...) {
    why = detail::describe(std::current_exception());
  }
  return why.empty() ? detail::report(rc) : detail::report(1, why);
}

// ---------------------------------------------------------------- the scripted model

/// The newest `POST /v1/responses` the scripted model received (other requests skipped).
inline testing::RecordedRequest last_model_request(const testing::MockModelServer& model) {
  auto all = model.requests();
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    if (it->method == "POST" && it->target.rfind("/v1/responses", 0) == 0) return std::move(*it);
  throw std::logic_error("the scripted model received no request");
}

// ---------------------------------------------------------------- JSON accessors

/// `v[k1][k2]...` (object keys), or nullptr when a step is missing.
inline const json::value* at_path(const json::value& v,
                                  std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto k : path) {
    if (!cur->is_object()) return nullptr;
    cur = cur->get_object().if_contains(k);
    if (!cur) return nullptr;
  }
  return cur;
}
inline const json::value* at_path(const json::object& o,
                                  std::initializer_list<std::string_view> path) {
  const json::value* cur = nullptr;
  const json::object* obj = &o;
  for (auto k : path) {
    if (!obj) return nullptr;
    cur = obj->if_contains(k);
    if (!cur) return nullptr;
    obj = cur->is_object() ? &cur->get_object() : nullptr;
  }
  return cur;
}

/// A string member (`""` when absent or not a string).
inline std::string str(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

/// A string at a path (`""` when absent or not a string).
inline std::string str_at(const json::object& o, std::initializer_list<std::string_view> path) {
  if (const auto* v = at_path(o, path); v && v->is_string()) return std::string(v->get_string());
  return {};
}

/// The array at a path (empty when absent).
inline json::array array_at(const json::object& o, std::initializer_list<std::string_view> path) {
  if (const auto* v = at_path(o, path); v && v->is_array()) return v->get_array();
  return {};
}

/// `item.type` of a ThreadItem.
inline std::string item_type(const json::object& item) {
  return str(item, "type");
}

/// A one-line preview of a text (newlines shown as spaces, cut at `max` characters).
inline std::string preview(std::string_view text, std::size_t max = 80) {
  std::string out;
  for (char c : text.substr(0, max))
    out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  if (text.size() > max) out += "...";
  return out;
}

// ---------------------------------------------------------------- a generated PNG

namespace detail {
inline std::uint32_t crc32(const unsigned char* p, std::size_t n, std::uint32_t crc = 0) {
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}
inline void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFFu));
}
inline void png_chunk(std::string& out, const char (&type)[5], const std::string& data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  put_be32(out, crc32(reinterpret_cast<const unsigned char*>(body.data()), body.size()));
}
}  // namespace detail

/// A small RGB PNG (a diagonal gradient), encoded here: zlib "stored" blocks need no compressor.
inline std::string make_png(std::uint32_t width = 4, std::uint32_t height = 4) {
  std::string raw;  // filter byte 0 + RGB for every row
  for (std::uint32_t y = 0; y < height; ++y) {
    raw.push_back('\0');
    for (std::uint32_t x = 0; x < width; ++x) {
      raw.push_back(static_cast<char>(255 * x / (width > 1 ? width - 1 : 1)));
      raw.push_back(static_cast<char>(255 * y / (height > 1 ? height - 1 : 1)));
      raw.push_back(static_cast<char>(0x80));
    }
  }
  std::string z = "\x78\x01";  // zlib header, no compression
  for (std::size_t off = 0;; off += 65535) {
    const std::size_t n = std::min<std::size_t>(65535, raw.size() - off);
    const bool last = off + n >= raw.size();
    z.push_back(last ? '\x01' : '\x00');
    z.push_back(static_cast<char>(n & 0xFF));
    z.push_back(static_cast<char>(n >> 8));
    z.push_back(static_cast<char>(~n & 0xFF));
    z.push_back(static_cast<char>((~n >> 8) & 0xFF));
    z.append(raw, off, n);
    if (last) break;
  }
  std::uint32_t a = 1, b = 0;  // adler32
  for (unsigned char c : raw) {
    a = (a + c) % 65521u;
    b = (b + a) % 65521u;
  }
  detail::put_be32(z, (b << 16) | a);

  std::string ihdr;
  detail::put_be32(ihdr, width);
  detail::put_be32(ihdr, height);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  detail::png_chunk(png, "IHDR", ihdr);
  detail::png_chunk(png, "IDAT", z);
  detail::png_chunk(png, "IEND", {});
  return png;
}

/// Standard base64.
inline std::string base64_encode(std::string_view in) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6)
      out.push_back(tbl[(v >> s) & 63]);
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(tbl[(v >> 18) & 63]);
    out.push_back(tbl[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

/// `data:image/png;base64,...` of `make_png()`.
inline std::string png_data_url(std::uint32_t width = 4, std::uint32_t height = 4) {
  return "data:image/png;base64," + base64_encode(make_png(width, height));
}

/// Writes `bytes` to `path` (binary); throws on failure.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path.string());
}

// ---------------------------------------------------------------- async stdin

/// Reads stdin line by line without blocking the io_context (pipes, terminals and files alike),
/// so the client keeps handling events while the program waits for the user.
///
/// Create it once the `AsyncCodex` on the same io_context has started: spawning the app-server
/// re-registers the io_context's descriptors in the forked child, which fails for stdin
/// redirected from a regular file or /dev/null (see "Known issues" in samples/README.md).
class AsyncLineReader {
 public:
  explicit AsyncLineReader(boost::asio::any_io_executor ex) : sd_(std::move(ex)) {
    fd_ = ::dup(STDIN_FILENO);
    if (fd_ < 0) throw std::runtime_error("dup(stdin) failed");
    saved_flags_ = ::fcntl(fd_, F_GETFL);
    sd_.assign(fd_);
  }
  ~AsyncLineReader() {
    // The dup shares the file status flags with our stdin (and the shell's): undo O_NONBLOCK.
    if (saved_flags_ >= 0) ::fcntl(fd_, F_SETFL, saved_flags_);
  }
  AsyncLineReader(const AsyncLineReader&) = delete;
  AsyncLineReader& operator=(const AsyncLineReader&) = delete;

  /// The next line without its end of line, or nullopt at the end of input.
  boost::asio::awaitable<std::optional<std::string>> read_line() {
    for (;;) {
      if (auto pos = buf_.find('\n'); pos != std::string::npos) {
        std::string line = buf_.substr(0, pos);
        buf_.erase(0, pos + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        co_return line;
      }
      if (eof_) {
        if (buf_.empty()) co_return std::nullopt;
        co_return std::exchange(buf_, {});
      }
      std::array<char, 512> chunk{};
      auto [ec, n] = co_await sd_.async_read_some(
          boost::asio::buffer(chunk), boost::asio::as_tuple(boost::asio::use_awaitable));
      buf_.append(chunk.data(), n);
      if (ec) eof_ = true;
    }
  }

 private:
  boost::asio::posix::stream_descriptor sd_;
  int fd_ = -1;
  int saved_flags_ = -1;
  std::string buf_;
  bool eof_ = false;
};

/// Blocking twin of `AsyncLineReader::read_line`.
inline std::optional<std::string> read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// ---------------------------------------------------------------- printing

/// One line per field of a token usage breakdown.
inline std::string usage_line(const TokenUsageBreakdown& u) {
  return "total " + std::to_string(u.total_tokens) + " (input " + std::to_string(u.input_tokens) +
         ", cached " + std::to_string(u.cached_input_tokens) + ", output " +
         std::to_string(u.output_tokens) + ", reasoning " +
         std::to_string(u.reasoning_output_tokens) + ")";
}

}  // namespace codex::samples
