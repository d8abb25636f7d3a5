// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "log.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include <array>

namespace codex::detail {

namespace {
bool is_secret_key(std::string_view k) noexcept {
  static constexpr std::array<std::string_view, 10> keys = {
      "apiKey",  "api_key",        "accessToken", "access_token",  "refreshToken",
      "idToken", "OPENAI_API_KEY", "token",       "authorization", "Authorization"};
  for (auto s : keys)
    if (k == s) return true;
  return false;
}
}  // namespace

void redact_secrets(boost::json::value& v) {
  if (auto* o = v.if_object()) {
    for (auto& kv : *o) {
      // `refreshToken` on account/read is a boolean flag, not a secret.
      if (is_secret_key(kv.key()) && kv.value().is_string())
        kv.value() = "<redacted>";
      else
        redact_secrets(kv.value());
    }
  } else if (auto* a = v.if_array()) {
    for (auto& e : *a)
      redact_secrets(e);
  }
}

std::string redacted(const boost::json::value& v) {
  boost::json::value copy = v;
  redact_secrets(copy);
  return boost::json::serialize(copy);
}

bool Logger::trace_on() const noexcept {
  return l_ && l_->should_log(spdlog::level::trace);
}
void Logger::trace(std::string_view m) const {
  if (l_) l_->trace("{}", m);
}
void Logger::debug(std::string_view m) const {
  if (l_) l_->debug("{}", m);
}
void Logger::info(std::string_view m) const {
  if (l_) l_->info("{}", m);
}
void Logger::warn(std::string_view m) const {
  if (l_) l_->warn("{}", m);
}
void Logger::error(std::string_view m) const {
  if (l_) l_->error("{}", m);
}

}  // namespace codex::detail
