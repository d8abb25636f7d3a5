// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file config.hpp
/// @brief `codex::CodexConfig`: how the SDK starts or reaches `codex app-server`.

#include <codex/approvals.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace codex {

class Transport;

/// The SDK's version string (also the default `client_version`).
inline constexpr const char* version_string = "0.1.0";

/// The Codex CLI version this SDK release is tested against (the pinned npm package).
inline constexpr const char* pinned_cli_version = "0.169.0";

/// Limits that keep memory bounded whatever the server sends or the program leaves unread.
/// See docs/reliability.md for what happens when each one is reached.
struct Limits {
  /// Longest accepted protocol line. A longer line is skipped (and logged); the connection goes on.
  std::size_t max_line_bytes = 64u * 1024u * 1024u;
  /// Client-level events (notifications with no turn id) kept for `next_event()`; the oldest is
  /// dropped when full and `dropped_events()` counts it.
  std::size_t max_client_events = 1024;
  /// Turns whose events arrived but that no handle has claimed (for example a compaction turn, or
  /// a turn started by another client of the same thread). The oldest completed ones are evicted.
  std::size_t max_unclaimed_turns = 256;
  /// Events kept per unclaimed turn; past it the oldest events of that turn are dropped.
  std::size_t max_unclaimed_turn_events = 100000;
  /// Events buffered for claimed turns and not yet read by any consumer (about 0.5 KiB each for
  /// a delta). Past it the reader stops reading the server (backpressure) until consumers have
  /// read half of them, so a consumer that falls behind bounds the client's memory. The reader
  /// never stops while a caller waits on the server (a response, a turn event with nothing
  /// buffered, a login, a client event): a turn handle that is kept but not read yet cannot stall
  /// the connection, its events are kept beyond this limit until it is read or dropped.
  std::size_t max_buffered_turn_events = 1u << 13;
  /// Lines of the server's stderr kept for error messages.
  std::size_t stderr_tail_lines = 400;
};

/// TLS settings of a `wss://` endpoint (and of `probe_ready` on `https://` or `wss://`).
///
/// By default the server's certificate is verified like a browser does: its chain must lead to a
/// certificate of the system's trust store, and it must be issued for the endpoint's host (a DNS
/// name, or the IP address of an IP endpoint), which is also sent as SNI. A failure makes
/// connecting throw `CodexError` naming the endpoint and the verification error.
struct TlsConfig {
  /// PEM file of the CA certificates to trust: a private CA, or a self-signed server certificate
  /// itself. When set, ONLY these are trusted (the system store is not consulted). Unset: the
  /// system's trust store (OpenSSL's default paths, which `SSL_CERT_FILE` and `SSL_CERT_DIR`
  /// override).
  std::optional<std::string> ca_file;
  /// The name the certificate must be issued for, and the SNI sent, when it is not the endpoint's
  /// host: e.g. `codex.example.com` for `wss://10.0.0.7` or for an SSH tunnel on 127.0.0.1.
  std::optional<std::string> server_name;
  /// DANGER, TESTS AND LOCAL DEVELOPMENT ONLY: accept ANY certificate (self-signed, expired,
  /// issued for another host). Anyone on the network path can then impersonate the server, read
  /// the token and drive the agent. Every connection with it set logs a warning. Prefer `ca_file`.
  bool insecure_skip_verify = false;
};

/// Configuration of an `AsyncCodex` / `Codex` client.
///
/// Binary resolution (first match wins): `launch_args_override` (whole argv), `codex_bin` (must
/// exist), the `CODEX_BIN` environment variable, the project-local pinned install
/// (`<dir>/.codex-cli/...` found from the `CODEX_CPP_CLI_DIR` environment variable, the
/// compiled-in install location and the current directory's parents), then `codex` on `PATH`.
struct CodexConfig {
  /// Explicit path to a `codex` executable. It must exist, or starting fails naming the path.
  std::optional<std::string> codex_bin;
  /// Full argv that replaces the whole command line (no lookup, no `--config` flags added).
  std::vector<std::string> launch_args_override;
  /// Each entry becomes `--config <entry>` before the `app-server` subcommand.
  std::vector<std::string> config_overrides;
  /// Working directory of the child process (unset: inherit).
  std::optional<std::string> cwd;
  /// Variables set in the child's environment, over a copy of the parent's.
  std::map<std::string, std::string> env;
  /// Variables removed from the child's environment (applied before `env`).
  std::vector<std::string> env_remove;
  /// `initialize.clientInfo.name`.
  std::string client_name = "codex_cpp_sdk";
  /// `initialize.clientInfo.title`.
  std::string client_title = "Codex C++ SDK";
  /// `initialize.clientInfo.version`.
  std::string client_version = version_string;
  /// `initialize.capabilities.experimentalApi`.
  bool experimental_api = true;
  /// Notification methods the server should not send on this connection
  /// (`initialize.capabilities.optOutNotificationMethods`).
  std::vector<std::string> opt_out_notification_methods;
  /// Default deadline of every request; a per-call option overrides it. Zero means none.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(120);
  /// Deadline of `close()`: after it the child is killed.
  std::chrono::milliseconds shutdown_timeout = std::chrono::seconds(2);
  /// The turn inactivity watchdog; zero (the default) turns it off. When a turn being read
  /// (`stream().next()`, `run()`, `collect()`) has had no event for this long, the SDK asks the
  /// server with `thread/read`: a turn the server reports as ended completes its stream with the
  /// server's status (a lost `turn/completed` is recovered); a turn still running raises
  /// `TurnStalledError` from the read, and the stream stays usable (the watchdog re-arms).
  std::chrono::milliseconds turn_inactivity_timeout{0};
  /// Logger for the SDK (protocol traffic at trace level; secrets are redacted). Null: quiet.
  std::shared_ptr<spdlog::logger> logger;
  /// Handler for approvals and other server requests (fail-closed when unset). A thread or a turn
  /// may override it.
  ApprovalHandler approval_handler;
  /// Deadline for answering a server request: when it passes, an approval is declined (other
  /// requests refused) and the handler's wait is cancelled. Zero means none.
  std::chrono::milliseconds approval_timeout{0};
  /// Memory bounds.
  Limits limits;
  /// Connect to a running app-server instead of spawning one: `ws://HOST:PORT` (WebSocket, one
  /// JSON-RPC message per text frame), `wss://HOST[:PORT][/path]` (the same over TLS, to a TLS
  /// terminator in front of the server; port 443 by default; see `tls`) or
  /// `unix:///path/to/socket`. Unset: spawn over stdio.
  std::optional<std::string> endpoint;
  /// Capability token for a `ws://` endpoint started with `--ws-auth capability-token`, or a
  /// signed bearer token; sent as `Authorization: Bearer <token>`. Never logged.
  std::optional<std::string> auth_token;
  /// A file holding the token (read at connect time; trailing whitespace removed).
  std::optional<std::string> auth_token_file;
  /// Certificate verification of a `wss://` endpoint (ignored for the other schemes).
  TlsConfig tls;
  /// Makes the transport (default: `endpoint` if set, else spawn `codex app-server` over stdio).
  /// Tests and custom transports set it.
  std::function<std::unique_ptr<Transport>(boost::asio::any_io_executor, const CodexConfig&)>
      transport_factory;
};

}  // namespace codex
