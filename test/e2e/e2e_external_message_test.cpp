// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// End-to-end: `ExternalMessage` against the real pinned `codex app-server`. The message must reach
// the model as a tool's output (a `function_call_output` item attributed to the tool and its
// namespace), never as user or developer text, and the turn must complete. Twins of the Python
// SDK's `test_external_message_reaches_model_with_tool_authority` (sync and async) and
// `test_external_message_joins_active_turn_with_tool_authority`.
//
// GCC 12: no braced-init temporaries inside `co_await` expressions (they are hoisted to locals).

#include "e2e_fixture.hpp"

using namespace e2e;
using codex::TurnStatus;

namespace {

/// The `input` items of a model request of type `type`.
std::vector<json::object> items_of_type(const RecordedRequest& r, std::string_view type) {
  std::vector<json::object> out;
  for (const auto& v : r.input())
    if (const auto* o = v.if_object(); o && str(*o, "type") == type) out.push_back(*o);
  return out;
}

/// The text of a `function_call_output.output` (a string, or content items with `text`).
std::string output_text(const json::object& item) {
  const auto* out = item.if_contains("output");
  if (!out) return {};
  if (const auto* s = out->if_string()) return std::string(*s);
  std::string text;
  if (const auto* a = out->if_array())
    for (const auto& part : *a)
      if (const auto* o = part.if_object()) text += str(*o, "text");
  return text;
}

/// Checks that `text` reached the model in `r` as a `function_call_output` item attributed to
/// the tool `name` in namespace `ns` (the 0.169.0 server puts `name` and `namespace` on the item
/// itself), and never as message text (user or developer).
void check_tool_authority(const RecordedRequest& r, const std::string& text,
                          const std::string& name, const std::string& ns) {
  std::string non_messages;  // the request's input minus the (long) messages, for failures
  for (const auto& v : r.input())
    if (const auto* o = v.if_object(); o && str(*o, "type") != "message")
      non_messages += json::serialize(*o) + "\n";
  INFO("input item types: " << json::serialize(json::value_from(r.input_item_types())));
  INFO("non-message input items:\n" << non_messages);
  std::optional<json::object> output;
  for (auto& o : items_of_type(r, "function_call_output"))
    if (output_text(o).find(text) != std::string::npos) output = o;
  REQUIRE(output);
  CHECK(str(*output, "name") == name);
  CHECK(str(*output, "namespace") == ns);
  // Not user input, not developer text.
  CHECK_FALSE(texts_contain(r, text));
}

}  // namespace

TEST_CASE("sync ExternalMessage reaches the model as a tool output and the turn completes",
          "[e2e][sync][external]") {
  Env e;
  e.server.enqueue(Response::message("Noted: the deploy finished."));
  codex::Codex codex(e.config());
  auto thread = codex.thread_start();

  const std::string note = "New message in #ops from alice: the deploy finished";
  Seen seen;
  auto r = thread.run(
      codex::ExternalMessage{.tool_name = "notifications", .content = note, .namespace_ = "slack"},
      {.source = "slack_notification", .turn_service_tier = "default"}, record_into(seen));
  CHECK(r.status == TurnStatus::completed);
  CHECK(r.final_response == std::optional<std::string>("Noted: the deploy finished."));
  CHECK(seen.count("turn/completed") == 1);

  REQUIRE(wait_for_model_requests(e.server, 1));
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 1);
  check_tool_authority(reqs[0], note, "notifications", "slack");
}

TEST_CASE(
    "async ExternalMessage after a user task keeps the task and reaches the model as a tool "
    "output",
    "[e2e][async][external]") {
  AsyncEnv e;
  e.server.enqueue(Response::message("I will watch the build."));
  e.server.enqueue(Response::message("The build passed, nothing to do."));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  const std::string task = "Watch the CI build and tell me when it is done.";
  const std::string status = "Build #42 passed on main";
  codex::TurnResult first, second;
  auto body = [&]() -> asio::awaitable<void> {
    auto thread = co_await codex.thread_start();
    first = co_await thread.run(task);
    // Content items instead of a plain text.
    std::vector<json::object> items{json::object{{"type", "input_text"}, {"text", status}}};
    codex::Input ci(codex::ExternalMessage{
        .tool_name = "build_status", .content = std::move(items), .namespace_ = "ci"});
    codex::TurnOptions opts{.source = "ci_webhook"};
    auto h = co_await thread.turn(std::move(ci), opts);
    second = co_await h.run();
    co_await codex.close();
  };
  run_async(e.ioc, body());

  CHECK(first.status == TurnStatus::completed);
  CHECK(second.status == TurnStatus::completed);
  CHECK(second.final_response == std::optional<std::string>("The build passed, nothing to do."));
  REQUIRE(wait_for_model_requests(e.server, 2));
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK(texts_contain(reqs[1], task));  // the earlier user task is still in the history
  check_tool_authority(reqs[1], status, "build_status", "ci");
}

TEST_CASE("an ExternalMessage sent while a turn runs joins that turn and both handles complete",
          "[e2e][async][external]") {
  AsyncEnv e;
  e.server.enqueue(Response::message("Working on the report, step one of three.", {.deltas = 4})
                       .hold_after_deltas("busy", 1));
  e.server.enqueue(Response::message("Report done; the on-call page is acknowledged."));
  codex::AsyncCodex codex(e.ioc.get_executor(), e.config());

  const std::string page = "PAGE: disk usage above 90% on db-1";
  std::string first_id, joined_id;
  std::optional<std::string> steer_error;
  codex::TurnResult first, joined;
  auto body = [&]() -> asio::awaitable<void> {
    auto thread = co_await codex.thread_start();
    auto h1 = co_await thread.turn("Write the weekly report.");
    first_id = h1.id();
    REQUIRE(e.server.wait_until_held("busy", kServerWait));
    codex::Input msg(
        codex::ExternalMessage{.tool_name = "pager", .content = page, .namespace_ = "oncall"});
    // steer() refuses it, before anything is sent...
    try {
      (void)co_await h1.steer(msg);
    } catch (const std::invalid_argument& ex) {
      steer_error = ex.what();
    }
    // ...turn() joins the running turn.
    codex::TurnOptions opts{.source = "pager"};
    auto h2 = co_await thread.turn(msg, opts);
    joined_id = h2.id();
    e.server.release("busy");
    first = co_await h1.collect();
    joined = co_await h2.collect();
    co_await codex.close();
  };
  run_async(e.ioc, body());

  CHECK(steer_error.has_value());
  CHECK(joined_id == first_id);
  CHECK(first.status == TurnStatus::completed);
  CHECK(joined.status == TurnStatus::completed);
  CHECK(joined.id == first_id);
  CHECK(first.final_response ==
        std::optional<std::string>("Report done; the on-call page is acknowledged."));
  REQUIRE(wait_for_model_requests(e.server, 2));
  auto reqs = model_requests(e.server);
  REQUIRE(reqs.size() == 2);
  CHECK_FALSE(body_contains(reqs[0], page));
  check_tool_authority(reqs[1], page, "pager", "oncall");
}
