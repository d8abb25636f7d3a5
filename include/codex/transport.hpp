// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file transport.hpp
/// @brief The small interface a transport implements: the spawned child's stdio, and WebSocket
/// connections over TCP (`ws://`), TLS (`wss://`) or a unix socket (`unix://`), all behind it
/// without the engine knowing which; `CodexConfig::transport_factory` plugs in your own.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace codex {

struct CodexConfig;
struct TlsConfig;

/// Receives complete messages (one JSON text each, without the newline) from a transport.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  /// One message. The view is valid only during the call.
  virtual void on_message(std::string_view message) = 0;
  /// A message longer than `Limits::max_line_bytes` was skipped.
  virtual void on_oversize(std::size_t bytes) = 0;
};

/// A bidirectional message channel to one app-server. All members are called from the client's
/// executor; `read` and `write` may be in progress at the same time, each at most once.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Connects or spawns. Throws `CodexError` (naming the binary or endpoint) on failure.
  virtual boost::asio::awaitable<void> open() = 0;
  /// Waits for data and hands every complete message to `sink`. Returns false at end of stream.
  virtual boost::asio::awaitable<bool> read(MessageSink& sink) = 0;
  /// Writes the messages in order (each one JSON text, no trailing newline).
  virtual boost::asio::awaitable<void> write(const std::vector<std::string>& messages) = 0;
  /// Ends the connection gracefully within `grace` (for a child: close stdin, SIGTERM, wait,
  /// then SIGKILL) and reaps it.
  virtual boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace) = 0;
  /// Waits (at most `limit`) for the peer to be gone after the stream ended, for `exit_status`.
  virtual boost::asio::awaitable<void> wait_gone(std::chrono::milliseconds limit) = 0;
  /// Ends it now, synchronously (destructor path). Never throws.
  virtual void kill() noexcept = 0;
  /// The child's exit status (exit code, or 128+signal), once known.
  virtual std::optional<int> exit_status() const = 0;
  /// The last lines of the peer's diagnostics (stderr), for error messages.
  virtual std::string stderr_tail() const = 0;
  /// What this transport talks to (for messages), e.g. the command line.
  virtual std::string describe() const = 0;
};

/// Makes the transport that spawns `codex app-server --listen stdio://` as `config` says (the
/// transport keeps its own copy of `config`).
std::unique_ptr<Transport> make_stdio_transport(boost::asio::any_io_executor executor,
                                                const CodexConfig& config);

/// Makes the transport that connects to `config.endpoint` (`ws://`, `wss://` or `unix://`).
/// Throws `std::invalid_argument` for an unsupported scheme or a malformed endpoint.
std::unique_ptr<Transport> make_endpoint_transport(boost::asio::any_io_executor executor,
                                                   const CodexConfig& config);

/// Health probe of a listening app-server: `GET /readyz` on `http_endpoint` (`http://HOST:PORT`
/// or the `ws://HOST:PORT` endpoint itself; `https://` and `wss://` through a TLS terminator,
/// with the certificate verified as the default `TlsConfig` says). True on HTTP 200; false on any
/// other answer, a connection or certificate failure, or when `timeout` passes. Never throws for
/// network errors.
boost::asio::awaitable<bool> probe_ready(std::string http_endpoint,
                                         std::chrono::milliseconds timeout);

/// `probe_ready` with the TLS settings of an `https://` or `wss://` endpoint (e.g. the client's
/// `CodexConfig::tls`); they are ignored for the other schemes.
boost::asio::awaitable<bool> probe_ready(std::string http_endpoint,
                                         std::chrono::milliseconds timeout, TlsConfig tls);

/// Resolves the codex binary as documented on `CodexConfig` (throws `CodexError` if none).
std::string resolve_codex_bin(const CodexConfig& config);

/// The full argv the stdio transport runs for `config`.
std::vector<std::string> build_launch_args(const CodexConfig& config);

}  // namespace codex
