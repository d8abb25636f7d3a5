// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file mock_model_server.hpp
/// @brief A scripted OpenAI Responses-API server for running the real `codex app-server` offline.
///
/// `MockModelServer` listens on 127.0.0.1 (ephemeral port) on its own thread and answers
/// `POST /v1/responses` with a `text/event-stream` of Responses-API events, taking one scripted
/// `Response` per request from a FIFO queue. `codex_config_overrides()` gives the `--config`
/// entries that point the real binary at it (see docs §10 of app-server-protocol.md).
///
/// Ids are chosen per request: the N-th `POST /v1/responses` (counting from 1, errors included)
/// uses `resp_mock_N`, `msg_mock_N`, `rs_mock_N`, `fc_mock_N` and `call_mock_N`; a second item of
/// the same kind in one response gets a suffix (`msg_mock_N_2`).
///
/// The header stays free of Asio/Beast (the implementation is behind a pimpl).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace codex::testing {

/// Token usage reported on `response.completed` (`total_tokens` = input + output).
struct Usage {
  std::int64_t input_tokens = 120;
  std::int64_t cached_input_tokens = 0;
  std::int64_t output_tokens = 20;
  std::int64_t reasoning_output_tokens = 0;
};

/// How an assistant message is streamed.
struct MessageOptions {
  /// Copied to `agentMessage.phase` ("final_answer", "commentary"); nullopt omits the field.
  std::optional<std::string> phase = "final_answer";
  /// Number of `response.output_text.delta` events the text is split into (at most one per
  /// character; an empty text sends none).
  int deltas = 1;
  /// Pause before every delta but the first.
  std::chrono::milliseconds delay{0};
};

/// How a reasoning item's summary is streamed.
struct ReasoningOptions {
  int deltas = 1;                      ///< `response.reasoning_summary_text.delta` events
  std::chrono::milliseconds delay{0};  ///< pause before every delta but the first
};

/// Arguments of the `exec_command` convenience builders.
struct ExecOptions {
  /// How long the app-server waits for the command before it answers the model with "Process
  /// running with session ID ..." (the commandExecution item then completes only after the
  /// turn, and a stream never sees its result). A fast command is answered as soon as it exits,
  /// so a long default costs nothing; 1000 ms was short for a sandboxed process on a loaded
  /// 2-core machine.
  int yield_time_ms = 10000;
  /// Adds `"sandbox_permissions":"require_escalated"` and `justification` (sandbox escalation;
  /// under `on-request` this produces a command approval whose `reason` is the justification).
  bool require_escalated = false;
  std::string justification = "need to write outside the sandbox";
  /// The function call's `call_id` (the `commandExecution` item id); default `call_mock_N`.
  std::optional<std::string> call_id;
};

/// One output item of a scripted response.
struct OutputItem {
  enum class Kind { message, reasoning, function_call };
  Kind kind = Kind::message;
  std::string text;  ///< message text, or reasoning summary text
  std::optional<std::string> phase;
  int deltas = 1;
  std::chrono::milliseconds delay{0};
  std::string name;                    ///< function name
  std::string arguments;               ///< function arguments, a JSON document as a string
  std::optional<std::string> call_id;  ///< function call id; default `call_mock_N`
};

/// Where a stream is held until `MockModelServer::release(name)`.
struct Gate {
  enum class At {
    before_headers,    ///< before anything is written (after the first-byte delay)
    after_deltas,      ///< after `deltas` deltas (0: right after `response.created`)
    before_completed,  ///< after the last output item, before `response.completed`
  };
  std::string name;
  At at = At::after_deltas;
  int deltas = 1;
};

/// What the server answers to one `POST /v1/responses`.
///
/// Build one with a static builder, then refine it with the chainable members:
///
///     Response::reasoning("Thinking.", {.deltas = 3})
///         .then_message("Done.", {.phase = "commentary", .deltas = 2})
///         .hold_after_deltas("mid-stream", 4);
///
/// "Deltas" counts message text deltas and reasoning summary deltas of the whole response.
struct Response {
  std::vector<OutputItem> items;
  Usage usage;
  std::chrono::milliseconds first_byte_delay{0};
  int http_status = 200;  ///< anything but 200 answers with `error_body` instead of a stream
  std::string error_body;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::optional<std::string> failure_message;  ///< send `response.failed` after `created`
  std::optional<int> cut_after_deltas;         ///< close the socket after that many deltas
  std::vector<Gate> gates;

  /// An assistant message.
  static Response message(std::string text, MessageOptions options = {});
  /// A reasoning item (usually followed by `then_message`).
  static Response reasoning(std::string summary, ReasoningOptions options = {});
  /// A function call; `arguments` is serialized to the JSON string the API carries.
  static Response function_call(std::string name, boost::json::object arguments,
                                std::optional<std::string> call_id = std::nullopt);
  /// An `exec_command` call running `cmd` (codex runs it as `/bin/bash -c '<cmd>'`).
  static Response exec_command(std::string cmd, ExecOptions options = {});
  /// An `exec_command` call with an `apply_patch` heredoc that adds `path` with `content`
  /// (codex intercepts it: a `fileChange` item instead of a shell command).
  static Response apply_patch_add_file(std::string path, std::string content,
                                       ExecOptions options = {});
  /// An HTTP error with an OpenAI-style JSON error body.
  static Response http_error(int status, std::string message = "upstream HTTP error",
                             std::string type = "server_error");
  /// HTTP 429 with `Retry-After: 1` and a `rate_limit_exceeded` body.
  static Response rate_limited(std::string message = "rate limited by the mock");
  /// `response.created`, then `response.failed` with this message.
  static Response failed(std::string message = "mock response.failed");

  /// The `apply_patch` heredoc command used by `apply_patch_add_file`.
  static std::string add_file_patch_command(std::string_view path, std::string_view content);

  /// Append another output item (streamed after the ones before it).
  Response& then_message(std::string text, MessageOptions options = {});
  Response& then_reasoning(std::string summary, ReasoningOptions options = {});
  Response& then_function_call(std::string name, boost::json::object arguments,
                               std::optional<std::string> call_id = std::nullopt);
  Response& then_exec_command(std::string cmd, ExecOptions options = {});
  /// The usage reported on `response.completed`.
  Response& with_usage(Usage u);
  /// Wait this long before writing anything (also before an HTTP error).
  Response& with_first_byte_delay(std::chrono::milliseconds delay);
  /// Close the connection after `deltas` deltas, without `response.completed` (0: right after
  /// `response.created`; a count the response never reaches has no effect).
  Response& cut_after(int deltas);
  /// Hold the stream after `deltas` deltas until `release(gate)` (0: right after
  /// `response.created`; a count the response never reaches never holds).
  Response& hold_after_deltas(std::string gate, int deltas = 1);
  Response& hold_before_headers(std::string gate);
  Response& hold_before_completed(std::string gate);
};

/// One HTTP request the server received.
struct RecordedRequest {
  std::string method;                          ///< "POST", "GET", ...
  std::string target;                          ///< e.g. "/v1/responses"
  std::map<std::string, std::string> headers;  ///< names lower-cased; repeated ones joined ", "
  std::string body;                            ///< raw body
  boost::json::value json;                     ///< parsed body (null when not JSON)

  /// A header value (name is case-insensitive), empty when absent.
  std::string header(std::string_view name) const;
  /// The `session-id` header (the thread id).
  std::string session_id() const { return header("session-id"); }
  /// The body's `input` array (empty when absent).
  boost::json::array input() const;
  /// Newest user-message text that does not start with `<` (codex's own context blocks do).
  std::optional<std::string> last_user_text() const;
  /// Every text part (`input_text`/`output_text`/string content) of every `input` message.
  std::vector<std::string> input_texts() const;
  /// Every `input_image.image_url` of every `input` message.
  std::vector<std::string> image_urls() const;
  /// Types of the `input` items; messages as `message:<role>` (e.g. `message:user`).
  std::vector<std::string> input_item_types() const;
  /// The output text of the last input item when it is a `function_call_output`.
  std::optional<std::string> function_call_output() const;
  /// Names of the offered `tools`.
  std::vector<std::string> tool_names() const;
};

/// Constructor options.
struct MockModelServerOptions {
  std::string provider = "mock";  ///< provider name used in the config overrides
  int request_max_retries = 0;
  int stream_max_retries = 0;
  std::chrono::milliseconds stream_idle_timeout{20000};
  /// The server stops by itself after this long, so a crashed test cannot leak it.
  std::chrono::milliseconds lifetime = std::chrono::minutes(10);
};

/// The scripted Responses-API server. All members are thread-safe.
class MockModelServer {
 public:
  explicit MockModelServer(MockModelServerOptions options = {});
  ~MockModelServer();
  MockModelServer(const MockModelServer&) = delete;
  MockModelServer& operator=(const MockModelServer&) = delete;

  /// Queues the answer to a future `POST /v1/responses` (FIFO).
  void enqueue(Response response);
  /// Queued answers not yet used.
  std::size_t queued() const;

  /// Lets streams held at `gate` go on, now and later (a release is permanent).
  void release(const std::string& gate);
  /// Waits until some stream has reached `gate` (true), or the timeout (false).
  bool wait_until_held(const std::string& gate, std::chrono::milliseconds timeout) const;

  /// Every request received so far (any method and target), oldest first.
  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;
  /// The newest request; throws std::logic_error when there is none.
  RecordedRequest last_request() const;
  /// Waits until at least `n` requests were received (true), or the timeout (false).
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

  std::uint16_t port() const;
  /// `http://127.0.0.1:PORT/v1`
  std::string base_url() const;
  /// The `key=value` entries for `codex --config`, pointing codex at this server.
  std::vector<std::string> codex_config_overrides() const;

  /// Stops the server (closes the listener and every open stream). Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace codex::testing
