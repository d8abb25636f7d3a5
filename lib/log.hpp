// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Internal: logging through an optional spdlog logger, with secrets redacted.
#pragma once

#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace codex::detail {

/// Replaces the values of secret-bearing keys (apiKey, accessToken, token, ...) with "<redacted>".
void redact_secrets(boost::json::value& v);
/// The serialized form of `v` with secrets redacted.
std::string redacted(const boost::json::value& v);

class Logger {
 public:
  explicit Logger(std::shared_ptr<spdlog::logger> l) : l_(std::move(l)) {}
  bool trace_on() const noexcept;
  void trace(std::string_view msg) const;
  void debug(std::string_view msg) const;
  void info(std::string_view msg) const;
  void warn(std::string_view msg) const;
  void error(std::string_view msg) const;

 private:
  std::shared_ptr<spdlog::logger> l_;
};

}  // namespace codex::detail
