// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Transports to a running app-server (ws://, wss://, unix://).
//
// What the pinned `codex app-server` speaks (checked against 0.169.0):
//  * `--listen ws://IP:PORT`: WebSocket, one JSON-RPC message per text frame. With
//    `--ws-auth capability-token` the upgrade request must carry `Authorization: Bearer <token>`
//    (a query parameter is not accepted); a missing or wrong token is answered `401`.
//    `GET /readyz` and `GET /healthz` answer 200 without authentication.
//  * `--listen unix://PATH`: the same WebSocket protocol (HTTP upgrade, text frames) over the
//    unix stream socket, not newline-delimited JSON.
//
// The app-server does not speak TLS. `wss://` reaches it through a TLS terminator (nginx,
// stunnel, ...) forwarding to its ws:// port: the same WebSocket over an OpenSSL stream, with the
// certificate verified (chain to the trust store or `TlsConfig::ca_file`, host name or IP, SNI).
//
// So all three share one WebSocket client over Boost.Beast. The connection under it (TCP, unix
// socket, TLS over TCP) is type-erased (`ByteStream`): Beast's WebSocket and HTTP templates are
// compiled once, not once per kind of connection, which keeps this file's build time and memory
// below what two plain socket types alone cost.
#include <codex/config.hpp>
#include <codex/errors.hpp>
#include <codex/transport.hpp>

#include "log.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <signal.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <csignal>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace codex {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::use_awaitable;

namespace {

// NOTE: every translation unit linked with this one must see the same Asio configuration macros
// (codex_sdk exports BOOST_ASIO_NO_DEPRECATED): the socket templates instantiated here are the
// same types a program's own `tcp::socket` code uses, and Asio's handler-work code differs under
// that macro.
using io_executor = asio::any_io_executor;

struct Endpoint {
  enum class Kind { ws, unix_socket } kind = Kind::ws;
  bool tls = false;  // wss:// or https://
  std::string host;  // ws: host (brackets removed for IPv6)
  std::string port;  // ws: port
  std::string target = "/";
  std::string path;  // unix: socket path
  std::string text;  // as given, for messages
};

/// Parses `ws://HOST:PORT[/target]`, `wss://HOST[:PORT][/target]` (port 443 by default),
/// `http://` and `https://` alike, or `unix:///abs/path`. Throws std::invalid_argument.
Endpoint parse_endpoint(const std::string& s) {
  Endpoint ep;
  ep.text = s;
  auto starts = [&](std::string_view p) { return s.rfind(p, 0) == 0; };
  if (starts("unix://")) {
    ep.kind = Endpoint::Kind::unix_socket;
    ep.path = s.substr(7);
    if (ep.path.empty() || ep.path.front() != '/')
      throw std::invalid_argument("unsupported endpoint " + s +
                                  ": a unix endpoint needs an absolute path (unix:///path)");
    return ep;
  }
  std::string_view rest;
  if (starts("ws://")) {
    rest = std::string_view(s).substr(5);
  } else if (starts("wss://")) {
    rest = std::string_view(s).substr(6);
    ep.tls = true;
  } else if (starts("http://")) {
    rest = std::string_view(s).substr(7);
  } else if (starts("https://")) {
    rest = std::string_view(s).substr(8);
    ep.tls = true;
  } else {
    throw std::invalid_argument("unsupported endpoint " + s +
                                " (expected ws://HOST:PORT, wss://HOST[:PORT] or unix:///path)");
  }
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) ep.target = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("unsupported endpoint " + s +
                                ": credentials in the URL are not supported (use auth_token)");
  std::string_view host, port;
  bool no_port = false;  // no `:PORT` at all (an empty one after a colon is malformed)
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("malformed endpoint " + s);
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':') port = after.substr(1);
    no_port = after.empty();
  } else {
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) {
      host = authority;
      no_port = true;
    } else {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (ep.tls && no_port) port = "443";
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc() || p != port.data() + port.size() ||
      value == 0 || value > 65535)
    throw std::invalid_argument("malformed endpoint " + s +
                                " (expected ws://HOST:PORT or wss://HOST[:PORT])");
  ep.host = std::string(host);
  ep.port = std::string(port);
  return ep;
}

std::string trim_trailing(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  return s;
}

/// The token from the config: `auth_token`, else the contents of `auth_token_file`.
std::optional<std::string> load_token(const CodexConfig& cfg) {
  if (cfg.auth_token) return trim_trailing(*cfg.auth_token);
  if (!cfg.auth_token_file) return std::nullopt;
  std::ifstream in(*cfg.auth_token_file, std::ios::binary);
  if (!in) throw CodexError("cannot read the auth token file " + *cfg.auth_token_file);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string tok = trim_trailing(ss.str());
  if (tok.empty()) throw CodexError("the auth token file " + *cfg.auth_token_file + " is empty");
  return tok;
}

/// A short printable excerpt of an HTTP body for an error message, with the token removed.
std::string safe_excerpt(std::string body, const std::optional<std::string>& token) {
  if (token && !token->empty()) {
    for (auto pos = body.find(*token); pos != std::string::npos; pos = body.find(*token))
      body.replace(pos, token->size(), "<redacted>");
  }
  if (body.size() > 200) body.resize(200);
  for (char& c : body)
    if (!std::isprint(static_cast<unsigned char>(c))) c = ' ';
  return trim_trailing(body);
}

bool is_closed_error(const boost::system::error_code& ec) {
  return ec == websocket::error::closed || ec == asio::error::eof ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected ||
         ec == beast::error::timeout || ec == asio::ssl::error::stream_truncated;
}

// ---------------------------------------------------------------- TLS

/// The client context of one connection: TLS 1.2 or later, the trust anchors of `tls` (its
/// `ca_file`, else the system's default paths). Throws CodexError naming `what`.
void configure_tls_context(asio::ssl::context& ctx, const TlsConfig& tls, const std::string& what) {
  ::SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  if (tls.ca_file) {
    ctx.load_verify_file(*tls.ca_file, ec);
    if (ec)
      throw CodexError("cannot load the TLS CA file " + *tls.ca_file + " (tls.ca_file) for " +
                       what + ": " + ec.message());
  } else {
    ctx.set_default_verify_paths(ec);
    if (ec) throw CodexError("cannot load the system's TLS trust store for " + what);
  }
  ctx.set_verify_mode(tls.insecure_skip_verify ? asio::ssl::verify_none : asio::ssl::verify_peer);
}

/// Per connection: certificate verification on (unless insecure_skip_verify), the name the
/// certificate must carry (host name or IP address), and SNI for a host name. Throws CodexError
/// naming `what`.
void configure_tls_peer(SSL* ssl, const Endpoint& ep, const TlsConfig& tls,
                        const std::string& what) {
  const std::string& name = tls.server_name ? *tls.server_name : ep.host;
  boost::system::error_code not_ip;
  (void)asio::ip::make_address(name, not_ip);
  // RFC 6066: SNI carries host names only, never an IP literal.
  if (not_ip && ::SSL_set_tlsext_host_name(ssl, name.c_str()) != 1)
    throw CodexError("invalid TLS server name for " + what + ": " + name);
  // Per connection: an SSL object copies its context's verify mode when it is created.
  ::SSL_set_verify(ssl, tls.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  if (tls.insecure_skip_verify) return;
  X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
  ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = not_ip ? ::X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size())
                        : ::X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  if (ok != 1) throw CodexError("invalid TLS server name for " + what + ": " + name);
}

/// The message of a failed TLS handshake: the certificate verification error when there is one
/// (with what to do about it), else the TLS error.
std::string tls_failure(SSL* ssl, const Endpoint& ep, const TlsConfig& tls,
                        const boost::system::error_code& ec) {
  const long verify = ::SSL_get_verify_result(ssl);
  if (verify != X509_V_OK && !tls.insecure_skip_verify) {
    const std::string name = tls.server_name ? *tls.server_name : ep.host;
    std::string hint;
    switch (verify) {
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        hint = "the certificate is not issued for " + name +
               ": connect with a name it is issued for, or set tls.server_name";
        break;
      case X509_V_ERR_CERT_HAS_EXPIRED:
      case X509_V_ERR_CERT_NOT_YET_VALID:
        hint = "check the certificate's dates and this machine's clock";
        break;
      default:
        hint = tls.ca_file
                   ? "its chain does not lead to a certificate of tls.ca_file " + *tls.ca_file
                   : "not trusted by the system's store: trust its CA with tls.ca_file";
        break;
    }
    return "TLS certificate verification failed for " + ep.text + ": " +
           ::X509_verify_cert_error_string(verify) + "; " + hint;
  }
  if (ec == beast::error::timeout) return "TLS handshake with " + ep.text + " timed out";
  const bool not_tls =
      ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_WRONG_VERSION_NUMBER;
  return "TLS handshake with " + ep.text + " failed: " + ec.message() +
         (not_tls ? "; the port does not seem to speak TLS" : "");
}

/// A write to a socket whose peer vanished must fail with EPIPE, not kill the program (a handler
/// the program installed itself is left alone).
void ignore_sigpipe() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, nullptr);
  }
}

// ---------------------------------------------------------------- the byte stream

using tcp_stream = beast::basic_stream<asio::ip::tcp, io_executor, beast::unlimited_rate_policy>;
using unix_stream =
    beast::basic_stream<asio::local::stream_protocol, io_executor, beast::unlimited_rate_policy>;
using tls_stream = beast::ssl_stream<tcp_stream>;
using io_handler = asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
using done_handler = asio::any_completion_handler<void(boost::system::error_code)>;

/// The connection under the WebSocket: TCP, a unix socket, or TLS over TCP, behind one type.
/// Beast's WebSocket and HTTP templates are heavy; over this type they are compiled once instead of
/// once per kind of connection (the per-kind code is only the small `StreamImpl` below). Costs one
/// type-erased handler per read and per write.
class ByteStream {
 public:
  /// One kind of connection.
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual void read_some(asio::mutable_buffer buffer, io_handler handler) = 0;
    virtual void write_some(std::span<const asio::const_buffer> buffers, io_handler handler) = 0;
    /// The WebSocket's end of the connection (TLS: close_notify; TCP: shutdown and drain).
    virtual void teardown(beast::role_type role, done_handler handler) = 0;
    /// Lifts the connect deadline (it bounds every operation while set).
    virtual void expires_never() noexcept = 0;
    virtual void close() noexcept = 0;
  };

  using executor_type = io_executor;

  explicit ByteStream(io_executor ex) : ex_(std::move(ex)) {}
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  void reset(std::unique_ptr<Impl> impl) { impl_ = std::move(impl); }
  executor_type get_executor() const noexcept { return ex_; }
  void close() noexcept {
    if (impl_) impl_->close();
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    asio::mutable_buffer first;  // read_some may fill only the first non-empty buffer
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      asio::mutable_buffer b(*it);
      if (b.size() != 0) {
        first = b;
        break;
      }
    }
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler, ByteStream* self, asio::mutable_buffer b) {
          self->start_read(b, io_handler(std::move(handler)));
        },
        token, this, first);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    // Kept here until the write completes: the socket reads them then. Beast's WebSocket writes
    // one frame at a time (a header and a payload), so a few entries suffice; write_some may
    // write a prefix.
    std::size_t n = 0;
    for (auto it = asio::buffer_sequence_begin(buffers);
         it != asio::buffer_sequence_end(buffers) && n < wbufs_.size(); ++it) {
      asio::const_buffer b(*it);
      if (b.size() != 0) wbufs_[n++] = b;
    }
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler, ByteStream* self, std::size_t count) {
          self->start_write(count, io_handler(std::move(handler)));
        },
        token, this, n);
  }

  // Beast's customization points, found by argument-dependent lookup (only the asynchronous
  // WebSocket operations are used, so there is no synchronous `teardown`).
  friend void beast_close_socket(ByteStream& s) { s.close(); }
  template <class Handler>
  friend void async_teardown(beast::role_type role, ByteStream& s, Handler&& handler) {
    s.start_teardown(role, done_handler(std::forward<Handler>(handler)));
  }

 private:
  void start_read(asio::mutable_buffer b, io_handler h) {
    if (!impl_) return fail(std::move(h));
    impl_->read_some(b, std::move(h));
  }
  void start_write(std::size_t count, io_handler h) {
    if (!impl_) return fail(std::move(h));
    impl_->write_some(std::span<const asio::const_buffer>(wbufs_.data(), count), std::move(h));
  }
  void start_teardown(beast::role_type role, done_handler h) {
    if (!impl_) {
      asio::post(ex_, [h = std::move(h)]() mutable { std::move(h)(boost::system::error_code{}); });
      return;
    }
    impl_->teardown(role, std::move(h));
  }
  void fail(io_handler h) {
    asio::post(ex_, [h = std::move(h)]() mutable {
      std::move(h)(make_error_code(asio::error::not_connected), std::size_t{0});
    });
  }

  io_executor ex_;
  std::unique_ptr<Impl> impl_;
  std::array<asio::const_buffer, 16> wbufs_{};
};

/// `ByteStream::Impl` over a `tcp_stream`, `unix_stream` or `tls_stream` (`stream` is public for
/// connecting and the TLS handshake, before it is handed to the ByteStream).
template <class Stream>
class StreamImpl final : public ByteStream::Impl {
 public:
  template <class... Args>
  explicit StreamImpl(Args&&... args) : stream(std::forward<Args>(args)...) {}

  void read_some(asio::mutable_buffer buffer, io_handler handler) override {
    stream.async_read_some(buffer, bound(std::move(handler)));
  }
  void write_some(std::span<const asio::const_buffer> buffers, io_handler handler) override {
    stream.async_write_some(buffers, bound(std::move(handler)));
  }
  void teardown(beast::role_type role, done_handler handler) override {
    using websocket::async_teardown;
    async_teardown(role, stream, bound(std::move(handler)));
  }
  void expires_never() noexcept override { beast::get_lowest_layer(stream).expires_never(); }
  void close() noexcept override {
    boost::system::error_code ec;
    auto& s = beast::get_lowest_layer(stream).socket();
    if (s.is_open()) {
      s.shutdown(std::remove_reference_t<decltype(s)>::shutdown_both, ec);
      s.close(ec);
    }
  }

  Stream stream;

 private:
  // Boost 1.81's any_completion_handler carries an executor that some operations cannot post to
  // (Beast's TCP teardown): the handler runs on the stream's executor, which is the one the
  // WebSocket's own operations use anyway.
  template <class Handler>
  auto bound(Handler&& h) {
    return asio::bind_executor(stream.get_executor(), std::forward<Handler>(h));
  }
};

/// Connects to `ep` (resolve, connect, and for TLS the verified handshake, with `tls_ctx` made
/// here), every step bounded by `deadline`, which stays set on the result. Throws CodexError.
asio::awaitable<std::unique_ptr<ByteStream::Impl>> connect_stream(
    io_executor ex, const Endpoint& ep, const TlsConfig& tls,
    std::chrono::steady_clock::time_point deadline, std::optional<asio::ssl::context>& tls_ctx) {
  if (ep.kind == Endpoint::Kind::unix_socket) {
    auto impl = std::make_unique<StreamImpl<unix_stream>>(ex);
    impl->stream.expires_at(deadline);
    asio::local::stream_protocol::endpoint where(ep.path);
    auto [ec] = co_await impl->stream.async_connect(where, asio::as_tuple(use_awaitable));
    if (ec) throw CodexError("cannot connect to " + ep.text + ": " + ec.message());
    co_return std::unique_ptr<ByteStream::Impl>(std::move(impl));
  }
  asio::ip::basic_resolver<asio::ip::tcp, io_executor> resolver(ex);
  auto [rec, results] =
      co_await resolver.async_resolve(ep.host, ep.port, asio::as_tuple(use_awaitable));
  if (rec) throw CodexError("cannot resolve " + ep.text + ": " + rec.message());
  if (!ep.tls) {
    auto impl = std::make_unique<StreamImpl<tcp_stream>>(ex);
    impl->stream.expires_at(deadline);
    auto [ec, to] = co_await impl->stream.async_connect(results, asio::as_tuple(use_awaitable));
    (void)to;
    if (ec) throw CodexError("cannot connect to " + ep.text + ": " + ec.message());
    co_return std::unique_ptr<ByteStream::Impl>(std::move(impl));
  }
  tls_ctx.emplace(asio::ssl::context::tls_client);
  configure_tls_context(*tls_ctx, tls, ep.text);
  auto impl = std::make_unique<StreamImpl<tls_stream>>(ex, *tls_ctx);
  auto& sock = beast::get_lowest_layer(impl->stream);
  sock.expires_at(deadline);
  auto [ec, to] = co_await sock.async_connect(results, asio::as_tuple(use_awaitable));
  (void)to;
  if (ec) throw CodexError("cannot connect to " + ep.text + ": " + ec.message());
  configure_tls_peer(impl->stream.native_handle(), ep, tls, ep.text);
  auto [hec] = co_await impl->stream.async_handshake(asio::ssl::stream_base::client,
                                                     asio::as_tuple(use_awaitable));
  if (hec) {
    std::string what = tls_failure(impl->stream.native_handle(), ep, tls, hec);
    impl->close();
    throw CodexError(what);
  }
  co_return std::unique_ptr<ByteStream::Impl>(std::move(impl));
}

std::string host_header(const Endpoint& ep) {
  if (ep.kind == Endpoint::Kind::unix_socket) return "localhost";
  return ep.host.find(':') != std::string::npos ? "[" + ep.host + "]:" + ep.port
                                                : ep.host + ":" + ep.port;
}

// ---------------------------------------------------------------- the transport

/// The WebSocket client over any `ByteStream` (ws://, wss://, unix://).
class WebSocketTransport final : public Transport {
 public:
  WebSocketTransport(asio::any_io_executor ex, const CodexConfig& cfg, Endpoint ep)
      : ex_(std::move(ex)), cfg_(cfg), ep_(std::move(ep)), ws_(ex_) {}

  ~WebSocketTransport() override { kill(); }

  asio::awaitable<void> open() override {
    ignore_sigpipe();
    // Read the token first: a missing file should not cost a connection.
    std::optional<std::string> token = load_token(cfg_);
    const auto connect_limit =
        std::min<std::chrono::milliseconds>(cfg_.request_timeout, std::chrono::seconds(30));
    if (ep_.tls && cfg_.tls.insecure_skip_verify)
      detail::Logger(cfg_.logger)
          .warn("tls.insecure_skip_verify is set: the certificate of " + ep_.text +
                " is NOT verified (tests and development only)");
    const auto deadline = std::chrono::steady_clock::now() + connect_limit;
    auto connected = co_await connect_stream(ex_, ep_, cfg_.tls, deadline, tls_ctx_);
    connected->expires_never();
    ws_.next_layer().reset(std::move(connected));

    websocket::stream_base::timeout to{};
    to.handshake_timeout = connect_limit;
    to.idle_timeout = websocket::stream_base::none();
    to.keep_alive_pings = false;
    ws_.set_option(to);
    std::string agent = "codex-cpp";
    ws_.set_option(websocket::stream_base::decorator([token, agent](websocket::request_type& req) {
      req.set(http::field::user_agent, agent);
      if (token) req.set(http::field::authorization, "Bearer " + *token);
    }));
    // Message sizes are bounded by our own reader (oversize messages are skipped, not fatal).
    ws_.read_message_max(0);
    ws_.auto_fragment(false);
    ws_.text(true);

    websocket::response_type res;
    const std::string host = host_header(ep_);
    auto [hec] = co_await ws_.async_handshake(res, host, ep_.target, asio::as_tuple(use_awaitable));
    if (hec) {
      ws_.next_layer().close();
      const unsigned status = res.result_int();
      if (status == 401 || status == 403) {
        std::string why = safe_excerpt(res.body(), token);
        throw CodexError("authentication failed for " + ep_.text + " (HTTP " +
                         std::to_string(status) + (why.empty() ? "" : ": " + why) + ")" +
                         (token ? ": check auth_token / auth_token_file"
                                : ": no auth_token or auth_token_file was set"));
      }
      if (status != 0)
        throw CodexError("WebSocket handshake with " + ep_.text + " was refused (HTTP " +
                         std::to_string(status) + ")");
      throw CodexError("WebSocket handshake with " + ep_.text + " failed: " + hec.message());
    }
    open_ = true;
  }
  asio::awaitable<bool> read(MessageSink& sink) override {
    if (!open_) co_return false;
    const std::size_t max = cfg_.limits.max_line_bytes;
    constexpr std::size_t chunk = 64 * 1024;
    const std::size_t old = msg_.size();
    msg_.resize(old + chunk);
    auto [ec, n] = co_await ws_.async_read_some(asio::buffer(msg_.data() + old, chunk),
                                                asio::as_tuple(use_awaitable));
    msg_.resize(old + n);
    if (ec) {
      msg_.clear();
      if (is_closed_error(ec)) co_return false;
      throw boost::system::system_error(ec, "read from " + ep_.text);
    }
    if (skipping_) {
      skipped_ += msg_.size();
      msg_.clear();
    } else if (msg_.size() > max) {
      skipping_ = true;
      skipped_ = msg_.size();
      msg_.clear();
      msg_.shrink_to_fit();
    }
    if (ws_.is_message_done()) {
      if (skipping_) {
        sink.on_oversize(skipped_);
        skipping_ = false;
        skipped_ = 0;
      } else {
        sink.on_message(std::string_view(msg_));
      }
      msg_.clear();
      if (msg_.capacity() > 4 * chunk) msg_.shrink_to_fit();
    }
    co_return true;
  }

  asio::awaitable<void> write(const std::vector<std::string>& messages) override {
    for (const auto& m : messages) {
      if (!open_) throw TransportClosedError("the connection to " + ep_.text + " is closed");
      auto [ec, n] = co_await ws_.async_write(asio::buffer(m), asio::as_tuple(use_awaitable));
      (void)n;
      if (ec) throw TransportClosedError("write to " + ep_.text + " failed: " + ec.message());
    }
  }

  asio::awaitable<void> shutdown(std::chrono::milliseconds grace) override {
    if (!open_) co_return;
    if (ws_.is_open()) {
      websocket::stream_base::timeout to{};
      to.handshake_timeout = grace;  // also bounds the close handshake
      to.idle_timeout = websocket::stream_base::none();
      to.keep_alive_pings = false;
      ws_.set_option(to);
      websocket::close_reason reason(websocket::close_code::normal);
      auto [ec] = co_await ws_.async_close(reason, asio::as_tuple(use_awaitable));
      (void)ec;
      // Beast 1.81 leaves the close handshake's timer armed after a clean close, which keeps the
      // io_context busy for `grace`; setting the timeouts to none cancels it.
      websocket::stream_base::timeout off{};
      off.handshake_timeout = websocket::stream_base::none();
      off.idle_timeout = websocket::stream_base::none();
      off.keep_alive_pings = false;
      ws_.set_option(off);
    }
    close_socket();
  }

  asio::awaitable<void> wait_gone(std::chrono::milliseconds) override { co_return; }

  void kill() noexcept override { close_socket(); }

  std::optional<int> exit_status() const override { return std::nullopt; }
  std::string stderr_tail() const override { return {}; }
  std::string describe() const override { return ep_.text; }

 private:
  void close_socket() noexcept {
    open_ = false;
    ws_.next_layer().close();
  }

  io_executor ex_;
  CodexConfig cfg_;
  Endpoint ep_;
  std::optional<asio::ssl::context> tls_ctx_;  // wss://; before ws_, whose TLS stream uses it
  websocket::stream<ByteStream> ws_;
  bool open_ = false;
  std::string msg_;
  bool skipping_ = false;
  std::size_t skipped_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_endpoint_transport(boost::asio::any_io_executor executor,
                                                   const CodexConfig& config) {
  if (!config.endpoint) throw std::invalid_argument("unsupported endpoint: <none>");
  Endpoint ep = parse_endpoint(*config.endpoint);
  if (ep.target.empty()) ep.target = "/";
  if (config.endpoint->rfind("http", 0) == 0)
    throw std::invalid_argument("unsupported endpoint " + *config.endpoint +
                                " (expected ws://HOST:PORT, wss://HOST[:PORT] or unix:///path)");
  return std::make_unique<WebSocketTransport>(std::move(executor), config, std::move(ep));
}

boost::asio::awaitable<bool> probe_ready(std::string http_endpoint,
                                         std::chrono::milliseconds timeout) {
  co_return co_await probe_ready(std::move(http_endpoint), timeout, TlsConfig{});
}

boost::asio::awaitable<bool> probe_ready(std::string http_endpoint,
                                         std::chrono::milliseconds timeout, TlsConfig tls) {
  Endpoint ep;
  try {
    ep = parse_endpoint(http_endpoint);
  } catch (const std::invalid_argument&) {
    co_return false;
  }
  if (ep.kind != Endpoint::Kind::ws) co_return false;
  io_executor ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<asio::ssl::context> tls_ctx;
  ByteStream stream(ex);
  try {
    stream.reset(co_await connect_stream(ex, ep, tls, deadline, tls_ctx));
  } catch (const CodexError&) {
    co_return false;
  }
  // The deadline stays set: it bounds the request and the answer too.
  http::request<http::empty_body> req(http::verb::get, "/readyz", 11);
  req.set(http::field::host, host_header(ep));
  req.set(http::field::user_agent, "codex-cpp");
  req.keep_alive(false);
  auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(use_awaitable));
  (void)wn;
  bool ok = false;
  if (!wec) {
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    auto [rdec, rn] = co_await http::async_read(stream, buf, res, asio::as_tuple(use_awaitable));
    (void)rn;
    ok = !rdec && res.result() == http::status::ok;
  }
  stream.close();
  co_return ok;
}

}  // namespace codex
