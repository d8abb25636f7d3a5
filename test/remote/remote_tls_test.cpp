// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// wss:// end to end. The REAL pinned `codex app-server` listens on plain ws:// with a capability
// token (remote_fixture.hpp); in front of it runs a small TLS terminator written here with Asio
// SSL, like nginx or stunnel would be: it accepts TLS on 127.0.0.1:<ephemeral> and forwards the
// decrypted bytes to the app-server's port. The certificates are made at test time with the
// OpenSSL API, in the test's temporary directory.
//
// Every test is bounded (the fixture's watchdog, `run_async` deadlines, a short connect timeout
// where a handshake could stall) and stops every thread and process it starts.
#ifndef CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#define CATCH_CONFIG_ENABLE_OPTIONAL_STRINGMAKER
#endif
#include <catch2/catch.hpp>

#include "remote_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <atomic>
#include <future>
#include <utility>

namespace {

using tcp = asio::ip::tcp;

// ---------------------------------------------------------------- certificates

struct CertFiles {
  fs::path cert;  // PEM certificate (also the trust anchor to give tls.ca_file)
  fs::path key;   // PEM private key
};

/// Writes a self-signed certificate for `subject_alt_names` (OpenSSL syntax, e.g.
/// "DNS:localhost,IP:127.0.0.1") with a fresh P-256 key to `dir/<stem>.crt` and `dir/<stem>.key`.
/// Valid from an hour ago for a day.
CertFiles make_self_signed(const fs::path& dir, const std::string& stem,
                           const std::string& subject_alt_names) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  REQUIRE(key);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
  REQUIRE(x);
  static std::atomic<long> serial{1};
  REQUIRE(X509_set_version(x.get(), X509_VERSION_3) == 1);
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++) == 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600));
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x.get()), 24 * 3600));
  REQUIRE(X509_set_pubkey(x.get(), key.get()) == 1);
  X509_NAME* name = X509_get_subject_name(x.get());
  const std::string cn = "codex-cpp test " + stem;
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                     0) == 1);
  REQUIRE(X509_set_issuer_name(x.get(), name) == 1);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x.get(), x.get(), nullptr, nullptr, 0);
  const std::pair<int, std::string> extensions[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},  // like `openssl req -x509`
      {NID_subject_key_identifier, "hash"},
      {NID_subject_alt_name, subject_alt_names}};
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    REQUIRE(ext);
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  REQUIRE(X509_sign(x.get(), key.get(), EVP_sha256()) > 0);

  CertFiles files{dir / (stem + ".crt"), dir / (stem + ".key")};
  auto write = [](const fs::path& p, auto&& emit) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(p.c_str(), "w"), &BIO_free);
    REQUIRE(bio);
    REQUIRE(emit(bio.get()) == 1);
  };
  write(files.cert, [&](BIO* b) { return PEM_write_bio_X509(b, x.get()); });
  write(files.key, [&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return files;
}

// ---------------------------------------------------------------- the TLS terminator

/// A TLS terminator in front of the app-server (what nginx or stunnel do in production): accepts
/// TLS on 127.0.0.1:<ephemeral> with `cert`, and forwards the decrypted bytes to
/// 127.0.0.1:`target` and back. Runs on its own thread; counts completed handshakes and records
/// the SNI name of every ClientHello ("<none>" without one).
class TlsTerminator {
 public:
  TlsTerminator(const CertFiles& cert, std::uint16_t target)
      : ctx_(asio::ssl::context::tls_server), target_(target) {
    ctx_.use_certificate_chain_file(cert.cert.string());
    ctx_.use_private_key_file(cert.key.string(), asio::ssl::context::pem);
    SSL_CTX_set_tlsext_servername_callback(ctx_.native_handle(), &TlsTerminator::on_client_hello);
    SSL_CTX_set_tlsext_servername_arg(ctx_.native_handle(), this);
    tcp::endpoint where(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(where.protocol());
    acceptor_.bind(where);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TlsTerminator() {
    ioc_.stop();
    thread_.join();
  }
  TlsTerminator(const TlsTerminator&) = delete;
  TlsTerminator& operator=(const TlsTerminator&) = delete;

  std::uint16_t port() const { return port_; }
  int handshakes() const { return handshakes_; }
  std::vector<std::string> server_names() const {
    std::lock_guard lock(mutex_);
    return server_names_;
  }
  /// Closes every open connection abruptly (no close_notify), as a crashing proxy would; returns
  /// once done (bounded).
  bool drop_all() {
    std::promise<void> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, &done] {
      for (auto& weak : sessions_)
        if (auto s = weak.lock()) s->close();
      done.set_value();
    });
    return fut.wait_for(10s) == std::future_status::ready;
  }

 private:
  struct Session {
    Session(tcp::socket s, asio::ssl::context& ctx)
        : tls(std::move(s), ctx), plain(tls.get_executor()) {}
    void close() {
      boost::system::error_code ec;
      tls.lowest_layer().close(ec);
      plain.close(ec);
    }
    asio::ssl::stream<tcp::socket> tls;
    tcp::socket plain;
  };

  static int on_client_hello(SSL* ssl, int*, void* self) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    auto* t = static_cast<TlsTerminator*>(self);
    std::lock_guard lock(t->mutex_);
    t->server_names_.emplace_back(name ? name : "<none>");
    return SSL_TLSEXT_ERR_OK;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto s = std::make_shared<Session>(std::move(sock), ctx_);
      sessions_.push_back(s);
      asio::co_spawn(ioc_, serve(s), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<Session> s) {
    auto [hec] = co_await s->tls.async_handshake(asio::ssl::stream_base::server,
                                                 asio::as_tuple(asio::use_awaitable));
    if (hec) {
      s->close();
      co_return;
    }
    ++handshakes_;
    tcp::endpoint app(asio::ip::make_address("127.0.0.1"), target_);
    auto [cec] = co_await s->plain.async_connect(app, asio::as_tuple(asio::use_awaitable));
    if (cec) {
      s->close();
      co_return;
    }
    asio::co_spawn(ioc_, pump(s, s->tls, s->plain), asio::detached);
    asio::co_spawn(ioc_, pump(s, s->plain, s->tls), asio::detached);
  }

  /// Copies `from` to `to` until either side ends, then closes both.
  template <class From, class To>
  static asio::awaitable<void> pump(std::shared_ptr<Session> s, From& from, To& to) {
    std::array<char, 16 * 1024> buf;
    for (;;) {
      auto [rec, n] =
          co_await from.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (rec) break;
      auto [wec, m] = co_await asio::async_write(to, asio::buffer(buf.data(), n),
                                                 asio::as_tuple(asio::use_awaitable));
      (void)m;
      if (wec) break;
    }
    s->close();
  }

  asio::ssl::context ctx_;  // outlives the sessions, which the io_context's destructor frees
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::uint16_t target_;
  std::uint16_t port_ = 0;
  std::vector<std::weak_ptr<Session>> sessions_;  // io thread only
  std::atomic<int> handshakes_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> server_names_;
  std::thread thread_;
};

/// `AsyncCodex::start()` on `cfg`, bounded: the CodexError's message, or "" when it connected.
std::string start_error(World& w, codex::CodexConfig cfg) {
  codex::AsyncCodex codex(w.ioc.get_executor(), std::move(cfg));
  try {
    run_async(w.ioc, codex.start(), 30s);
  } catch (const codex::CodexError& e) {
    return e.what();
  }
  run_async(w.ioc, codex.close(), 30s);
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("wss: a full turn through a TLS terminator trusting its certificate with tls.ca_file",
          "[remote][wss][turn]") {
  World w;
  auto d = w.start_ws();
  const CertFiles cert = make_self_signed(w.env.root(), "server", "DNS:localhost,IP:127.0.0.1");
  TlsTerminator tls(cert, w.port);
  w.server.enqueue(Response::message("Hello over TLS!", {.deltas = 3}));
  // snippet-begin: remote_wss_config
  codex::CodexConfig cfg;
  cfg.endpoint = "wss://localhost:" + std::to_string(tls.port());  // the TLS terminator
  cfg.auth_token_file = w.token_file.string();                     // as for ws://
  cfg.tls.ca_file = cert.cert.string();  // a private CA, or the self-signed certificate itself
  // snippet-end: remote_wss_config
  cfg.request_timeout = 30s;
  codex::AsyncCodex codex(w.ioc.get_executor(), cfg);
  auto body = [&]() -> asio::awaitable<std::optional<std::string>> {
    auto t = co_await codex.thread_start();
    CHECK(!t.id().empty());
    auto r = co_await t.run("Say hello");
    CHECK(r.status == codex::TurnStatus::completed);
    co_await codex.close();
    co_return r.final_response;
  };
  CHECK(run_async(w.ioc, body(), 60s) == std::optional<std::string>("Hello over TLS!"));
  REQUIRE(w.server.request_count() >= 1);
  CHECK(w.server.last_request().last_user_text() == std::optional<std::string>("Say hello"));
  CHECK(tls.handshakes() == 1);
  CHECK(tls.server_names() == std::vector<std::string>{"localhost"});  // SNI = the host
}

TEST_CASE("wss: an IP endpoint is checked against the certificate's IP address and probed",
          "[remote][wss][probe]") {
  World w;
  auto d = w.start_ws();
  const CertFiles cert = make_self_signed(w.env.root(), "server", "DNS:localhost,IP:127.0.0.1");
  TlsTerminator tls(cert, w.port);
  const std::string port = std::to_string(tls.port());
  codex::CodexConfig cfg = w.client_config();
  cfg.endpoint = "wss://127.0.0.1:" + port;
  cfg.tls.ca_file = cert.cert.string();
  CHECK(start_error(w, cfg).empty());
  CHECK(tls.server_names() == std::vector<std::string>{"<none>"});  // no SNI for an IP literal

  // probe_ready through the terminator: https:// or the wss:// endpoint, with the client's TLS.
  CHECK(run_async(w.ioc, codex::probe_ready("https://localhost:" + port, 5s, cfg.tls), 10s));
  CHECK(run_async(w.ioc, codex::probe_ready(*cfg.endpoint, 5s, cfg.tls), 10s));
  // Without tls.ca_file the system's trust store does not know the certificate.
  CHECK_FALSE(run_async(w.ioc, codex::probe_ready("https://localhost:" + port, 5s), 10s));
  // Plain HTTP to the TLS port is not an answer either.
  CHECK_FALSE(run_async(w.ioc, codex::probe_ready("http://127.0.0.1:" + port, 2s), 10s));
}

TEST_CASE("wss: an untrusted certificate is refused with a clear error", "[remote][wss][trust]") {
  World w;
  auto d = w.start_ws();
  const CertFiles cert = make_self_signed(w.env.root(), "server", "DNS:localhost,IP:127.0.0.1");
  const CertFiles other = make_self_signed(w.env.root(), "other", "DNS:localhost,IP:127.0.0.1");
  TlsTerminator tls(cert, w.port);
  const std::string endpoint = "wss://localhost:" + std::to_string(tls.port());
  codex::CodexConfig cfg = w.client_config();
  cfg.endpoint = endpoint;
  cfg.auth_token_file.reset();
  cfg.auth_token = kToken;

  // The system's trust store (no tls.ca_file) does not know the self-signed certificate.
  const std::string system_store = start_error(w, cfg);
  INFO("error: " << system_store);
  CHECK(contains(system_store, "TLS certificate verification failed for " + endpoint));
  CHECK(contains(system_store, "self-signed certificate"));
  CHECK(contains(system_store, "tls.ca_file"));
  CHECK_FALSE(contains(system_store, kToken));

  // tls.ca_file trusts only the certificates it holds: another one does not help.
  cfg.tls.ca_file = other.cert.string();
  const std::string wrong_ca = start_error(w, cfg);
  INFO("error: " << wrong_ca);
  CHECK(contains(wrong_ca, "TLS certificate verification failed for " + endpoint));
  CHECK(contains(wrong_ca, other.cert.string()));
  CHECK_FALSE(contains(wrong_ca, kToken));

  // A CA file that cannot be read is named.
  cfg.tls.ca_file = (w.env.root() / "missing.pem").string();
  const std::string missing = start_error(w, cfg);
  INFO("error: " << missing);
  CHECK(contains(missing, "cannot load the TLS CA file " + *cfg.tls.ca_file));

  // The upgrade request (and the token in it) never went past the TLS handshake.
  CHECK(tls.handshakes() == 0);
  CHECK(w.server.request_count() == 0);
}

TEST_CASE("wss: a certificate issued for another host is refused unless tls.server_name names it",
          "[remote][wss][hostname]") {
  World w;
  auto d = w.start_ws();
  const CertFiles cert = make_self_signed(w.env.root(), "elsewhere", "DNS:codex.invalid");
  TlsTerminator tls(cert, w.port);
  const std::string port = std::to_string(tls.port());
  codex::CodexConfig cfg = w.client_config();
  cfg.tls.ca_file = cert.cert.string();  // trusted, but not issued for 127.0.0.1 / localhost

  cfg.endpoint = "wss://localhost:" + port;
  const std::string by_name = start_error(w, cfg);
  INFO("error: " << by_name);
  CHECK(contains(by_name, "TLS certificate verification failed for " + *cfg.endpoint));
  CHECK(contains(by_name, "hostname mismatch"));
  CHECK(contains(by_name, "not issued for localhost"));

  cfg.endpoint = "wss://127.0.0.1:" + port;
  const std::string by_ip = start_error(w, cfg);
  INFO("error: " << by_ip);
  CHECK(contains(by_ip, "TLS certificate verification failed for " + *cfg.endpoint));
  CHECK(contains(by_ip, "IP address mismatch"));
  CHECK(tls.handshakes() == 0);

  // tls.server_name: verify (and send as SNI) the name the certificate is issued for.
  cfg.tls.server_name = "codex.invalid";
  CHECK(start_error(w, cfg).empty());
  CHECK(tls.handshakes() == 1);
  CHECK(tls.server_names().back() == "codex.invalid");
}

TEST_CASE("wss: tls.insecure_skip_verify connects to an untrusted certificate",
          "[remote][wss][insecure]") {
  World w;
  auto d = w.start_ws();
  const CertFiles cert = make_self_signed(w.env.root(), "elsewhere", "DNS:codex.invalid");
  TlsTerminator tls(cert, w.port);
  codex::CodexConfig cfg = w.client_config();
  cfg.endpoint = "wss://localhost:" + std::to_string(tls.port());
  cfg.tls.insecure_skip_verify = true;  // self-signed AND another host: accepted anyway
  CHECK(start_error(w, cfg).empty());
  CHECK(tls.handshakes() == 1);
  CHECK(tls.server_names() == std::vector<std::string>{"localhost"});
}

TEST_CASE("wss: a port that does not speak TLS fails the handshake without hanging",
          "[remote][wss][plain]") {
  World w;
  auto d = w.start_ws();
  codex::CodexConfig cfg = w.client_config();
  cfg.endpoint = "wss://127.0.0.1:" + std::to_string(w.port);  // the app-server's own ws:// port
  cfg.request_timeout = 5s;                                    // also bounds the TLS handshake
  const auto t0 = steady::now();
  const std::string error = start_error(w, cfg);
  INFO("error: " << error);
  CHECK(contains(error, "TLS handshake with " + *cfg.endpoint));
  CHECK(contains(error, "the port does not seem to speak TLS"));  // the server answered HTTP
  CHECK_FALSE(contains(error, kToken));
  CHECK(steady::now() - t0 < 20s);
}

TEST_CASE("wss: a dropped TLS connection fails the next call with TransportClosedError",
          "[remote][wss][drop]") {
  World w;
  auto d = w.start_ws();
  const CertFiles cert = make_self_signed(w.env.root(), "server", "DNS:localhost,IP:127.0.0.1");
  TlsTerminator tls(cert, w.port);
  codex::CodexConfig cfg = w.client_config();
  cfg.endpoint = "wss://localhost:" + std::to_string(tls.port());
  cfg.tls.ca_file = cert.cert.string();
  codex::AsyncCodex codex(w.ioc.get_executor(), cfg);
  auto before = [&]() -> asio::awaitable<std::string> {
    auto t = co_await codex.thread_start();
    co_return t.id();
  };
  CHECK(!run_async(w.ioc, before(), 60s).empty());
  REQUIRE(tls.drop_all());  // the proxy goes away without a TLS close_notify
  auto after = [&]() -> asio::awaitable<std::string> {
    try {
      co_await codex.models();
    } catch (const codex::TransportClosedError& e) {
      co_return std::string("closed: ") + e.what();
    }
    co_return std::string("models() succeeded");
  };
  const std::string outcome = run_async(w.ioc, after(), 60s);
  INFO(outcome);
  CHECK(outcome.rfind("closed: ", 0) == 0);
}

TEST_CASE("wss endpoints: parsing, the default port 443 and rejected forms", "[remote][parse]") {
  asio::io_context ioc;
  for (std::string good : {"wss://codex.example.com", "wss://codex.example.com:8443/codex",
                           "wss://[::1]", "wss://[::1]:4443/"}) {
    codex::CodexConfig cfg;
    cfg.endpoint = good;
    cfg.auth_token = "secret-never-described";
    INFO(good);
    auto t = codex::make_endpoint_transport(ioc.get_executor(), cfg);
    CHECK(t->describe() == good);
  }
  for (std::string bad : {"wss://", "wss://host:", "wss://host:0", "wss://user@host:443",
                          "https://host:443", "wss://[::1"}) {
    codex::CodexConfig cfg;
    cfg.endpoint = bad;
    INFO(bad);
    CHECK_THROWS_AS(codex::make_endpoint_transport(ioc.get_executor(), cfg), std::invalid_argument);
  }
}
