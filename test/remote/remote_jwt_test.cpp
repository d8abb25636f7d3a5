// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Signed bearer tokens: the REAL app-server started with `--ws-auth signed-bearer-token` (an HS256
// JWT checked against a shared secret, issuer and audience). The SDK sends the JWT the program
// gives it (`auth_token`) as `Authorization: Bearer`; a token for another audience, or an expired
// one, is refused with the SDK's authentication error and never appears in it.
#include <catch2/catch.hpp>

#include <codex/codex.hpp>

#include "bounded_run.hpp"
#include "mock_model_server.hpp"
#include "real_codex.hpp"
#include "remote_fixture.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/serialize.hpp>

#include <ctime>

namespace {

std::string b64url(std::string_view in) {
  static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (in.size() - i == 1) {
    const unsigned v = p[i] << 16;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
  } else if (in.size() - i == 2) {
    const unsigned v = (p[i] << 16) | (p[i + 1] << 8);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
  }
  return out;
}

/// An HS256 JWT over `claims`, signed with `secret` (what a token issuer of the program does).
std::string make_jwt(const std::string& secret, const boost::json::object& claims) {
  const std::string head = b64url(R"({"alg":"HS256","typ":"JWT"})");
  const std::string body = b64url(boost::json::serialize(claims));
  const std::string signing_input = head + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &len);
  return signing_input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

constexpr const char* kSecret = "a-shared-secret-of-at-least-32-bytes-for-hs256";

struct JwtWorld : World {
  std::unique_ptr<Daemon> start_jwt() {
    const fs::path secret_file = env.root() / "ws-jwt-secret";
    std::ofstream(secret_file) << kSecret << "\n";
    fs::permissions(secret_file, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    port = free_port();
    endpoint = "ws://127.0.0.1:" + std::to_string(port);
    auto d = std::make_unique<Daemon>(
        env, endpoint,
        std::vector<std::string>{"--ws-auth", "signed-bearer-token", "--ws-shared-secret-file",
                                 secret_file.string(), "--ws-issuer", "codex-cpp-tests",
                                 "--ws-audience", "codex-fleet"});
    bool ready =
        run_async(ioc, wait_ready("http://127.0.0.1:" + std::to_string(port), *d, 30s), 40s);
    INFO("daemon output:\n" << d->log());
    REQUIRE(ready);
    return d;
  }

  codex::CodexConfig jwt_config(const std::string& jwt) const {
    codex::CodexConfig cfg;
    cfg.endpoint = endpoint;
    cfg.auth_token = jwt;
    cfg.request_timeout = 30s;
    return cfg;
  }
};

std::int64_t now_s() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

TEST_CASE("ws: a signed bearer token (HS256 JWT) opens a session and runs a turn",
          "[remote][ws][jwt]") {
  JwtWorld w;
  auto d = w.start_jwt();
  w.server.enqueue(Response::message("Hello, signed client."));
  const std::string jwt = make_jwt(
      kSecret, {{"iss", "codex-cpp-tests"}, {"aud", "codex-fleet"}, {"exp", now_s() + 600}});
  codex::AsyncCodex codex(w.ioc.get_executor(), w.jwt_config(jwt));
  auto body = [&]() -> asio::awaitable<std::string> {
    auto t = co_await codex.thread_start();
    auto r = co_await t.run("Hello?");
    co_await codex.close();
    co_return r.final_response.value_or("");
  };
  CHECK(run_async(w.ioc, body(), 90s) == "Hello, signed client.");
}

TEST_CASE("ws: a JWT for another audience or an expired one is refused without leaking it",
          "[remote][ws][jwt]") {
  JwtWorld w;
  auto d = w.start_jwt();
  const std::string wrong_aud = make_jwt(
      kSecret, {{"iss", "codex-cpp-tests"}, {"aud", "someone-else"}, {"exp", now_s() + 600}});
  const std::string expired = make_jwt(
      kSecret, {{"iss", "codex-cpp-tests"}, {"aud", "codex-fleet"}, {"exp", now_s() - 600}});
  for (const std::string& jwt : {wrong_aud, expired}) {
    codex::AsyncCodex codex(w.ioc.get_executor(), w.jwt_config(jwt));
    auto body = [&]() -> asio::awaitable<std::string> {
      try {
        co_await codex.start();
      } catch (const codex::CodexError& e) {
        co_return std::string(e.what());
      }
      co_return std::string("started");
    };
    const std::string what = run_async(w.ioc, body(), 60s);
    INFO(what);
    CHECK(what != "started");
    CHECK(what.find("authentication failed") != std::string::npos);
    CHECK(what.find(jwt) == std::string::npos);  // the token never reaches an error message
  }
}
