// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Transports to a running app-server (ws://, unix://).
//
// What the pinned `codex app-server` speaks (checked against 0.169.0):
//  * `--listen ws://IP:PORT`: WebSocket, one JSON-RPC message per text frame. With
//    `--ws-auth capability-token` the upgrade request must carry `Authorization: Bearer <token>`
//    (a query parameter is not accepted); a missing or wrong token is answered `401`.
//    `GET /readyz` and `GET /healthz` answer 200 without authentication.
//  * `--listen unix://PATH`: the same WebSocket protocol (HTTP upgrade, text frames) over the
//    unix stream socket, not newline-delimited JSON.
// So both endpoints share one implementation over Boost.Beast, differing in the socket type.
#include <codex/config.hpp>
#include <codex/errors.hpp>
#include <codex/transport.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
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
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <signal.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <csignal>
#include <fstream>
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
  std::string host;  // ws: host (brackets removed for IPv6)
  std::string port;  // ws: port
  std::string target = "/";
  std::string path;  // unix: socket path
  std::string text;  // as given, for messages
};

/// Parses `ws://HOST:PORT[/target]` or `unix:///abs/path`. Throws std::invalid_argument.
Endpoint parse_endpoint(const std::string& s) {
  Endpoint ep;
  ep.text = s;
  auto starts = [&](std::string_view p) { return s.rfind(p, 0) == 0; };
  if (starts("wss://"))
    throw std::invalid_argument("unsupported endpoint " + s +
                                ": wss:// is not supported yet (terminate TLS in front of the "
                                "app-server and connect to it with ws:// over a trusted hop)");
  if (starts("unix://")) {
    ep.kind = Endpoint::Kind::unix_socket;
    ep.path = s.substr(7);
    if (ep.path.empty() || ep.path.front() != '/')
      throw std::invalid_argument("unsupported endpoint " + s +
                                  ": a unix endpoint needs an absolute path (unix:///path)");
    return ep;
  }
  std::string_view rest;
  if (starts("ws://"))
    rest = std::string_view(s).substr(5);
  else if (starts("http://"))
    rest = std::string_view(s).substr(7);
  else
    throw std::invalid_argument("unsupported endpoint " + s +
                                " (expected ws://HOST:PORT or unix:///path)");
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) ep.target = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("unsupported endpoint " + s +
                                ": credentials in the URL are not supported (use auth_token)");
  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("malformed endpoint " + s);
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':') port = after.substr(1);
  } else {
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) {
      host = authority;
    } else {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc() || p != port.data() + port.size() ||
      value == 0 || value > 65535)
    throw std::invalid_argument("malformed endpoint " + s + " (expected ws://HOST:PORT)");
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
         ec == beast::error::timeout;
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

template <class Protocol>
class WebSocketTransport final : public Transport {
  using lowest = beast::basic_stream<Protocol, io_executor, beast::unlimited_rate_policy>;

 public:
  WebSocketTransport(asio::any_io_executor ex, const CodexConfig& cfg, Endpoint ep)
      : ex_(std::move(ex)), cfg_(cfg), ep_(std::move(ep)), ws_(ex_) {}

  ~WebSocketTransport() override { kill(); }

  asio::awaitable<void> open() override {
    ignore_sigpipe();
    // Read the token first: a missing file should not cost a connection.
    std::optional<std::string> token = load_token(cfg_);
    auto& sock = beast::get_lowest_layer(ws_);
    const auto connect_limit =
        std::min<std::chrono::milliseconds>(cfg_.request_timeout, std::chrono::seconds(30));
    std::string host_header;
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
      asio::ip::basic_resolver<asio::ip::tcp, io_executor> resolver(ex_);
      auto [rec, results] =
          co_await resolver.async_resolve(ep_.host, ep_.port, asio::as_tuple(use_awaitable));
      if (rec) throw CodexError("cannot resolve " + ep_.text + ": " + rec.message());
      sock.expires_after(connect_limit);
      auto [cec, connected] = co_await sock.async_connect(results, asio::as_tuple(use_awaitable));
      (void)connected;
      if (cec) throw CodexError("cannot connect to " + ep_.text + ": " + cec.message());
      host_header = ep_.host.find(':') != std::string::npos ? "[" + ep_.host + "]:" + ep_.port
                                                            : ep_.host + ":" + ep_.port;
    } else {
      sock.expires_after(connect_limit);
      typename Protocol::endpoint where(ep_.path);
      auto [cec] = co_await sock.async_connect(where, asio::as_tuple(use_awaitable));
      if (cec) throw CodexError("cannot connect to " + ep_.text + ": " + cec.message());
      host_header = "localhost";
    }
    sock.expires_never();

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
    auto [hec] =
        co_await ws_.async_handshake(res, host_header, ep_.target, asio::as_tuple(use_awaitable));
    if (hec) {
      boost::system::error_code ignored;
      sock.socket().close(ignored);
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
    boost::system::error_code ec;
    auto& s = beast::get_lowest_layer(ws_).socket();
    if (s.is_open()) {
      s.shutdown(Protocol::socket::shutdown_both, ec);
      s.close(ec);
    }
  }

  io_executor ex_;
  CodexConfig cfg_;
  Endpoint ep_;
  websocket::stream<lowest> ws_;
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
  if (ep.kind == Endpoint::Kind::unix_socket)
    return std::make_unique<WebSocketTransport<asio::local::stream_protocol>>(
        std::move(executor), config, std::move(ep));
  if (config.endpoint->rfind("http://", 0) == 0)
    throw std::invalid_argument("unsupported endpoint " + *config.endpoint +
                                " (expected ws://HOST:PORT or unix:///path)");
  return std::make_unique<WebSocketTransport<asio::ip::tcp>>(std::move(executor), config,
                                                             std::move(ep));
}

boost::asio::awaitable<bool> probe_ready(std::string http_endpoint,
                                         std::chrono::milliseconds timeout) {
  Endpoint ep;
  try {
    ep = parse_endpoint(http_endpoint);
  } catch (const std::invalid_argument&) {
    co_return false;
  }
  if (ep.kind != Endpoint::Kind::ws) co_return false;
  io_executor ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::ip::basic_resolver<asio::ip::tcp, io_executor> resolver(ex);
  auto [rec, results] =
      co_await resolver.async_resolve(ep.host, ep.port, asio::as_tuple(use_awaitable));
  if (rec) co_return false;
  beast::basic_stream<asio::ip::tcp, io_executor, beast::unlimited_rate_policy> stream(ex);
  stream.expires_at(deadline);
  auto [cec, connected] = co_await stream.async_connect(results, asio::as_tuple(use_awaitable));
  (void)connected;
  if (cec) co_return false;
  http::request<http::empty_body> req(http::verb::get, "/readyz", 11);
  req.set(http::field::host, ep.host + ":" + ep.port);
  req.set(http::field::user_agent, "codex-cpp");
  req.keep_alive(false);
  auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(use_awaitable));
  (void)wn;
  if (wec) co_return false;
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  auto [rdec, rn] = co_await http::async_read(stream, buf, res, asio::as_tuple(use_awaitable));
  (void)rn;
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream.close();
  if (rdec) co_return false;
  co_return res.result() == http::status::ok;
}

}  // namespace codex
