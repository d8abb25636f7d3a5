// External messages and the 0.154+ turn options on the wire: `ExternalMessage` becomes
// `input: []` + `toolOutput`, `source` becomes `turnTrigger`, `turn_service_tier` becomes
// `serviceTierForTurn` (python-sdk-behavior.md §2.4), checked against the lines the fake
// app-server logged. Misuse (steer, a blank tool name) throws before anything is sent.

#include "fake_fixture.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace itest;

/// Awaits `aw` and returns the message of the `std::invalid_argument` it threw (nullopt when it
/// did not throw).
template <class T>
asio::awaitable<std::optional<std::string>> invalid_argument_of(asio::awaitable<T> aw) {
  std::optional<std::string> out;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(aw);
    } else {
      (void)co_await std::move(aw);
    }
  } catch (const std::invalid_argument& e) {
    out = e.what();
  }
  co_return out;
}

bool mentions(const std::optional<std::string>& what, std::string_view needle) {
  return what && what->find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("an ExternalMessage turn sends input [] and toolOutput with name namespace and output",
          "[wire][external]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  codex::TurnResult text_result;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);

    // Text content, a namespace, and both new turn options.
    codex::ExternalMessage slack{.tool_name = "notifications",
                                 .content = "New message in #ops: deploy finished",
                                 .namespace_ = "slack"};
    codex::TurnOptions opts{.source = "slack_notification", .turn_service_tier = "default"};
    text_result = co_await t.run(slack, opts);

    // A list of content items, no namespace, no options.
    std::vector<json::object> items{
        O(R"({"type":"input_text","text":"CPU at 97%"})"),
        O(R"({"type":"input_image","image_url":"data:image/png;base64,AA=="})")};
    codex::Input monitor(codex::ExternalMessage{.tool_name = "monitor", .content = items});
    codex::TurnOptions none;
    auto h = co_await t.turn(monitor, none);
    (void)co_await h.run();
    co_await client.close();
  }());

  CHECK(text_result.status == codex::TurnStatus::completed);
  auto rs = fake.requests("turn/start");
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].at("params") == J(R"({"threadId":"thr_1","input":[],
      "serviceTierForTurn":"default",
      "toolOutput":{"name":"notifications","namespace":"slack",
                    "output":"New message in #ops: deploy finished"},
      "turnTrigger":"slack_notification"})"));
  CHECK(rs[1].at("params") == J(R"({"threadId":"thr_1","input":[],
      "toolOutput":{"name":"monitor","output":[
          {"type":"input_text","text":"CPU at 97%"},
          {"type":"input_image","image_url":"data:image/png;base64,AA=="}]}})"));
}

TEST_CASE("source and turn_service_tier map to turnTrigger and serviceTierForTurn on user input",
          "[wire][external]") {
  Watchdog wd;
  Fake fake;
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    // The Python SDK's own params test: service_tier, turn_service_tier and source together.
    codex::TurnOptions opts{
        .service_tier = "priority", .source = "automation", .turn_service_tier = "default"};
    (void)co_await t.run("Continue.", opts);
    codex::TurnOptions only_source{.source = "cron"};
    (void)co_await t.run("again", only_source);
    co_await client.close();
  }());
  auto rs = fake.requests("turn/start");
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].at("params") == J(R"({"threadId":"thr_1",
      "input":[{"type":"text","text":"Continue."}],"serviceTier":"priority",
      "serviceTierForTurn":"default","turnTrigger":"automation"})"));
  CHECK(rs[1].at("params") == J(R"({"threadId":"thr_1",
      "input":[{"type":"text","text":"again"}],"turnTrigger":"cron"})"));
  for (auto& r : rs)
    CHECK(!r.at("params").as_object().contains("toolOutput"));
}

TEST_CASE("an ExternalMessage is refused by steer and a blank tool_name is refused before sending",
          "[wire][external]") {
  Watchdog wd;
  // The first turn is left running so that steer has a turn to act on.
  Fake fake(R"({"on":{"turn/start":[{"default":"response"},
      {"turn":{"deltas":["x"],"complete":false}}]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::optional<std::string> steer_error, blank_error, empty_error, wire_error;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h = co_await t.turn("running", to);

    // (Temporaries are hoisted out of the co_await expressions: GCC 12 mishandles them.)
    codex::Input external(codex::ExternalMessage{.tool_name = "notifications", .content = "hi"});
    steer_error = co_await invalid_argument_of(h.steer(external));
    codex::Input blank(codex::ExternalMessage{.tool_name = " \t ", .content = "hi"});
    blank_error = co_await invalid_argument_of(t.turn(blank, to));
    codex::Input empty(codex::ExternalMessage{.tool_name = "", .content = "hi"});
    empty_error = co_await invalid_argument_of(t.run(empty, to));
    try {
      (void)external.to_wire();
    } catch (const std::invalid_argument& e) {
      wire_error = e.what();
    }
    // The connection is fine, and this round trip makes every earlier line reach the log.
    codex::ModelsOptions mo;
    (void)co_await client.models(mo);
    co_await client.close();
  }());
  INFO("steer: " << steer_error.value_or("<no error>"));
  CHECK(mentions(steer_error, "steer() does not take an ExternalMessage"));
  CHECK(mentions(blank_error, "tool_name"));
  CHECK(mentions(empty_error, "tool_name"));
  CHECK(mentions(wire_error, "not user input"));
  CHECK(fake.requests("turn/steer").empty());
  CHECK(fake.requests("turn/start").size() == 1);  // only the running user turn
  CHECK(fake.requests("model/list").size() == 1);
}

TEST_CASE("an ExternalMessage that joins an active turn gives a second handle to that turn",
          "[wire][external]") {
  Watchdog wd;
  // Turn 1 stays open; the second turn/start answers with the active turn's id (what the real
  // server does when a turn is running), then completes the turn.
  Fake fake(R"({"on":{"turn/start":[
      [{"default":"response"},{"turn":{"deltas":["first "],"complete":false}}],
      [{"respond":{"turn":{"id":"turn_1","status":"inProgress","items":[],"error":null}}},
       {"notify":"item/agentMessage/delta",
        "params":{"threadId":"thr_1","turnId":"turn_1","itemId":"msg_2","delta":"joined"}},
       {"notify":"turn/completed","params":{"threadId":"thr_1",
        "turn":{"id":"turn_1","status":"completed","items":[],"error":null}}}]]}})");
  asio::io_context ioc;
  codex::AsyncCodex client(ioc.get_executor(), fake.config());
  std::string first_id, joined_id;
  codex::TurnResult first, joined;
  run_async(ioc, [&]() -> asio::awaitable<void> {
    codex::ThreadStartOptions so;
    auto t = co_await client.thread_start(so);
    codex::TurnOptions to;
    auto h1 = co_await t.turn("long task", to);
    first_id = h1.id();
    codex::Input msg(codex::ExternalMessage{
        .tool_name = "notifications", .content = "ping", .namespace_ = "slack"});
    auto h2 = co_await t.turn(msg, to);
    joined_id = h2.id();
    first = co_await h1.collect();
    joined = co_await h2.collect();
    co_await client.close();
  }());
  CHECK(first_id == "turn_1");
  CHECK(joined_id == "turn_1");
  CHECK(first.status == codex::TurnStatus::completed);
  CHECK(joined.status == codex::TurnStatus::completed);
  CHECK(joined.id == "turn_1");
}

TEST_CASE("sync Codex sends an ExternalMessage turn and refuses it in steer",
          "[wire][external][sync]") {
  Watchdog wd;
  Fake fake(R"({"on":{"turn/start":[
      [{"default":true}],
      [{"default":"response"},{"turn":{"deltas":["slow"],"complete":false}}]]}})");
  codex::Codex client(fake.config());
  auto thread = client.thread_start();
  auto r = thread.run(
      codex::ExternalMessage{
          .tool_name = "notifications", .content = "Build #42 passed", .namespace_ = "ci"},
      {.source = "ci_webhook"});
  CHECK(r.status == codex::TurnStatus::completed);

  auto h = thread.turn("running");
  std::optional<std::string> steer_error;
  try {
    (void)h.steer(codex::ExternalMessage{.tool_name = "notifications", .content = "late"});
  } catch (const std::invalid_argument& e) {
    steer_error = e.what();
  }
  CHECK(mentions(steer_error, "ExternalMessage"));
  (void)h.interrupt();
  CHECK(h.run().status == codex::TurnStatus::interrupted);
  client.close();

  auto ts = fake.requests("turn/start");
  REQUIRE(ts.size() == 2);
  CHECK(ts[0].at("params") == J(R"({"threadId":"thr_1","input":[],
      "toolOutput":{"name":"notifications","namespace":"ci","output":"Build #42 passed"},
      "turnTrigger":"ci_webhook"})"));
  CHECK(fake.requests("turn/steer").empty());
}
