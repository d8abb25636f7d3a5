// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// Tests of the generated protocol types (codex::types):
// - every message captured from the real codex-cli 0.169.0 app-server parses without a problem,
//   and parse -> serialize -> parse gives the same value (and never invents data);
// - a newer server (extra fields, unknown enum values, unknown item/union types, unknown
//   notification methods) parses without throwing and its unknowns survive a round trip;
// - lenient parsing reports the first problem with a JSON Pointer;
// - absent vs null, enums, the method traits and the Boost.JSON bridges behave as documented.

#include "codex/types/types.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace json = boost::json;
namespace t = codex::types;

namespace {

struct Entry {
  std::string kind;    // notification | server_request | response | client_request | ...
  std::string method;  // for responses: the method of the request they answer
  json::object message;
};

std::vector<Entry> load_capture() {
  std::ifstream in(std::string(CODEX_TYPES_TEST_DATA) + "/app_server_0.169.0.jsonl");
  REQUIRE(in.good());
  std::vector<Entry> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json::object o = json::parse(line).as_object();
    out.push_back(Entry{std::string(o.at("kind").as_string()),
                        std::string(o.at("method").as_string()),
                        std::move(o.at("message").as_object())});
  }
  return out;
}

const std::vector<Entry>& capture() {
  static const std::vector<Entry> entries = load_capture();
  return entries;
}

bool same_number(const json::value& a, const json::value& b) {
  if (!a.is_number() || !b.is_number()) return false;
  return a.to_number<double>() == b.to_number<double>();
}

/// True when `out` only holds what `in` holds: every key of every object of `out` is in the
/// matching object of `in` with the same value (serialization invents nothing, changes nothing).
/// Keys of `in` that `out` lacks (fields the schema does not have) are collected in `dropped`.
bool subset_of(const json::value& out, const json::value& in, const std::string& path,
               std::set<std::string>& dropped, std::string& why) {
  if (out.is_object() && in.is_object()) {
    const auto& oo = out.get_object();
    const auto& io = in.get_object();
    for (const auto& kv : oo) {
      const json::value* p = io.if_contains(kv.key());
      std::string sub = path + "/" + std::string(kv.key());
      if (!p) {
        why = "invented key " + sub;
        return false;
      }
      if (!subset_of(kv.value(), *p, sub, dropped, why)) return false;
    }
    for (const auto& kv : io) {
      if (!oo.contains(kv.key())) dropped.insert(std::string(kv.key()));
    }
    return true;
  }
  if (out.is_array() && in.is_array()) {
    const auto& oa = out.get_array();
    const auto& ia = in.get_array();
    if (oa.size() != ia.size()) {
      why = "array size differs at " + path;
      return false;
    }
    for (std::size_t i = 0; i < oa.size(); ++i) {
      if (!subset_of(oa[i], ia[i], path + "/" + std::to_string(i), dropped, why)) return false;
    }
    return true;
  }
  if (out == in || same_number(out, in)) return true;
  why = "value differs at " + path + ": " + json::serialize(out) + " vs " + json::serialize(in);
  return false;
}

struct RoundTripStats {
  std::set<std::string> dropped;  // wire keys the schema does not know
  int checked = 0;
};

/// parse -> serialize -> parse: no problem reported, nothing invented, same value twice.
template <class T>
void check_round_trip(const json::value& wire, const std::string& what, RoundTripStats& stats) {
  INFO(what << ": " << json::serialize(wire).substr(0, 400));
  t::ParseError error;
  T first;
  const bool ok = from_json(wire, first, &error);
  INFO("parse problem at '" << error.path << "': " << error.message);
  CHECK(ok);
  CHECK(error.message.empty());

  const json::value out = to_json(first);
  std::string why;
  CHECK(subset_of(out, wire, "", stats.dropped, why));
  INFO(why);

  T second;
  t::ParseError error2;
  CHECK(from_json(out, second, &error2));
  CHECK(second == first);
  CHECK(to_json(second) == out);
  ++stats.checked;
}

template <class Fn, class... M>
bool with_method(t::method_list<M...>, std::string_view method, Fn&& fn) {
  return ((method == M::name ? (fn(M{}), true) : false) || ...);
}

json::value params_of(const json::object& message) {
  const json::value* p = message.if_contains("params");
  return p ? *p : json::value(json::object());
}

/// The payload of a notification, serialized back (null for monostate).
json::value payload_to_json(const t::NotificationPayload& payload) {
  return std::visit(
      [](const auto& p) -> json::value {
        if constexpr (std::is_same_v<std::decay_t<decltype(p)>, std::monostate>) {
          return nullptr;
        } else {
          return to_json(p);
        }
      },
      payload.as_variant());
}

// Fields the 0.169.0 server sends that its stable schema lacks (experimental leaks, see
// app-server-protocol.md §3): they are ignored by design.
const std::set<std::string> known_leaks = {"availableDecisions",
                                           "workspaceRouting",
                                           "readStates",
                                           "environments",
                                           "extra",
                                           "attachedToThreadId",
                                           "canAcceptDirectInput",
                                           "daybreakEnabled",
                                           "readState",
                                           "runtimeWorkspaceRoots",
                                           "activePermissionProfile",
                                           "multiAgentMode",
                                           "initialTurnsPage"};

}  // namespace

TEST_CASE("captured messages: every kind of message is present") {
  std::set<std::string> kinds;
  for (const Entry& e : capture())
    kinds.insert(e.kind);
  CHECK(kinds.count("notification"));
  CHECK(kinds.count("server_request"));
  CHECK(kinds.count("response"));
  CHECK(kinds.count("client_request"));
  CHECK(kinds.count("client_response"));
  CHECK(capture().size() > 300);
}

TEST_CASE("captured notifications parse typed and round-trip") {
  RoundTripStats stats;
  std::set<std::string> methods;
  for (const Entry& e : capture()) {
    if (e.kind != "notification") continue;
    INFO(e.method);
    const json::value params = params_of(e.message);
    t::ParseError error;
    t::Notification n = t::parse_notification(e.method, params.as_object(), &error);
    CHECK(n.method == e.method);
    CHECK(n.params == params.as_object());
    CHECK(n.well_formed);
    CHECK(error.message.empty());
    REQUIRE_FALSE(std::holds_alternative<std::monostate>(n.payload.as_variant()));
    methods.insert(e.method);

    // Serialize the payload, parse it again: the same payload.
    const json::value out = payload_to_json(n.payload);
    std::string why;
    CHECK(subset_of(out, params, "", stats.dropped, why));
    INFO(why);
    t::Notification again = t::parse_notification(e.method, out.as_object());
    CHECK(again.well_formed);
    CHECK(payload_to_json(again.payload) == out);
    ++stats.checked;
  }
  CHECK(stats.checked > 250);
  CHECK(methods.size() >= 20);
  for (const std::string& k : stats.dropped) {
    INFO("dropped field " << k);
    CHECK(known_leaks.count(k));
  }
}

TEST_CASE("captured notifications: typed payloads carry the data") {
  int items = 0, deltas = 0, completed = 0, failed = 0, errors_as_objects = 0;
  std::set<std::string> item_types;
  for (const Entry& e : capture()) {
    if (e.kind != "notification") continue;
    t::Notification n = t::parse_notification(e.method, params_of(e.message).as_object());
    if (auto* p = std::get_if<t::ItemCompletedNotification>(&n.payload)) {
      ++items;
      std::visit(
          [&](const auto& item) {
            using I = std::decay_t<decltype(item)>;
            if constexpr (std::is_same_v<I, t::UnknownVariant>) {
              FAIL("unknown item type " << item.type);
            } else {
              CHECK_FALSE(item.id.empty());
              item_types.insert(std::string(to_json(item).as_object().at("type").as_string()));
            }
          },
          p->item.as_variant());
      CHECK(p->thread_id == std::string(e.message.at("params").at("threadId").as_string()));
    }
    if (auto* p = std::get_if<t::AgentMessageDeltaNotification>(&n.payload)) {
      ++deltas;
      CHECK_FALSE(p->item_id.empty());
    }
    if (auto* p = std::get_if<t::TurnCompletedNotification>(&n.payload)) {
      ++completed;
      CHECK(p->turn.status.value != t::TurnStatus::unknown);
      if (p->turn.status == t::TurnStatus::failed) {
        ++failed;
        REQUIRE(p->turn.error.has_value());
        REQUIRE(p->turn.error->codex_error_info.has_value());
        const t::CodexErrorInfo& info = *p->turn.error->codex_error_info;
        if (auto* obj = std::get_if<t::ResponseTooManyFailedAttemptsCodexErrorInfo>(&info)) {
          ++errors_as_objects;
          CHECK(obj->http_status_code.value_or(0) == 429);
        } else {
          REQUIRE(std::holds_alternative<t::CodexErrorInfoValue>(info));
          const auto& code = std::get<t::CodexErrorInfoValue>(info);
          CHECK((code == t::CodexErrorInfoValue::internal_server_error ||
                 code == t::CodexErrorInfoValue::other));
        }
      }
    }
  }
  CHECK(items > 20);
  CHECK(deltas > 10);
  CHECK(completed > 10);
  CHECK(failed == 3);
  CHECK(errors_as_objects == 1);
  for (const char* type : {"userMessage", "agentMessage", "reasoning", "commandExecution",
                           "fileChange", "webSearch", "contextCompaction"}) {
    INFO(type);
    CHECK(item_types.count(type));
  }
}

TEST_CASE("captured server requests and client replies parse typed and round-trip") {
  RoundTripStats stats;
  int requests = 0;
  for (const Entry& e : capture()) {
    if (e.kind == "server_request") {
      ++requests;
      const json::value params = params_of(e.message);
      t::ParseError error;
      t::ServerRequestPayload payload = t::parse_server_request(e.method, params, &error);
      CHECK(error.message.empty());
      CHECK_FALSE(std::holds_alternative<std::monostate>(payload.as_variant()));
      REQUIRE(with_method(t::server_request_methods{}, e.method, [&](auto m) {
        using M = decltype(m);
        check_round_trip<typename M::params>(params, e.method, stats);
        CHECK(std::holds_alternative<typename M::params>(payload.as_variant()));
      }));
    }
    if (e.kind == "client_response") {  // what the capture script answered
      REQUIRE(with_method(t::server_request_methods{}, e.method, [&](auto m) {
        check_round_trip<typename decltype(m)::result>(e.message.at("result"), e.method, stats);
      }));
    }
  }
  CHECK(requests >= 4);
  for (const std::string& k : stats.dropped) {
    INFO("dropped field " << k);
    CHECK(known_leaks.count(k));
  }
}

TEST_CASE("captured client requests and responses parse typed and round-trip") {
  RoundTripStats stats;
  std::set<std::string> responded;
  for (const Entry& e : capture()) {
    if (e.kind == "client_request") {
      with_method(t::client_request_methods{}, e.method, [&](auto m) {
        using P = typename decltype(m)::params;
        if constexpr (!std::is_void_v<P>) {
          check_round_trip<P>(params_of(e.message), e.method, stats);
        }
      });
    }
    if (e.kind == "response") {
      REQUIRE(with_method(t::client_request_methods{}, e.method, [&](auto m) {
        check_round_trip<typename decltype(m)::result>(e.message.at("result"), e.method, stats);
      }));
      responded.insert(e.method);
    }
  }
  for (const char* m : {"initialize", "thread/start", "thread/resume", "thread/fork", "thread/list",
                        "thread/read", "turn/start", "turn/interrupt", "model/list", "account/read",
                        "account/login/start", "account/login/cancel"}) {
    INFO(m);
    CHECK(responded.count(m));
  }
  CHECK(stats.checked > 60);
  for (const std::string& k : stats.dropped) {
    INFO("dropped field " << k);
    CHECK(known_leaks.count(k));
  }
}

TEST_CASE("captured responses: the SDK's result types carry the data") {
  for (const Entry& e : capture()) {
    if (e.kind != "response") continue;
    const json::value& result = e.message.at("result");
    if (e.method == "initialize") {
      auto r = t::parse<t::InitializeResponse>(result);
      CHECK(r.user_agent.find("/0.169.0") != std::string::npos);
      CHECK(r.platform_family == "unix");
    }
    if (e.method == "thread/start") {
      auto r = t::parse<t::ThreadStartResponse>(result);
      CHECK_FALSE(r.thread.id.empty());
      CHECK(r.thread.cli_version == "0.169.0");
      CHECK(std::holds_alternative<t::IdleThreadStatus>(r.thread.status));
      CHECK((std::holds_alternative<t::WorkspaceWriteSandboxPolicy>(r.sandbox) ||
             std::holds_alternative<t::ReadOnlySandboxPolicy>(r.sandbox)));
      REQUIRE(std::holds_alternative<t::AskForApprovalValue>(r.approval_policy));
    }
    if (e.method == "thread/read") {
      auto r = t::parse<t::ThreadReadResponse>(result);
      CHECK(r.thread.turns.size() > 5);
      CHECK(r.thread.name == std::string("capture demo"));
    }
    if (e.method == "model/list") {
      auto r = t::parse<t::ModelListResponse>(result);
      CHECK_FALSE(r.data.empty());
      for (const t::Model& m : r.data)
        CHECK_FALSE(m.id.empty());
    }
    if (e.method == "account/login/cancel") {
      auto r = t::parse<t::CancelLoginAccountResponse>(result);
      CHECK(r.status.value != t::CancelLoginAccountStatus::unknown);
    }
    if (e.method == "account/login/start") {
      auto r = t::parse<t::LoginAccountResponse>(result);
      CHECK_FALSE(std::holds_alternative<t::UnknownVariant>(r));
    }
  }
}

// ---------------------------------------------------------------- a newer server

namespace {

/// Adds an unknown member (with nested structure) to every object inside `v`, except inside
/// free-form values listed in `skip` (their content is data, not schema).
void add_unknown_fields(json::value& v, const std::set<std::string>& skip) {
  if (auto* o = v.if_object()) {
    for (auto& kv : *o) {
      if (!skip.count(std::string(kv.key()))) add_unknown_fields(kv.value(), skip);
    }
    o->emplace("zzFutureField", json::parse(R"({"nested":[1,{"deep":true}],"s":"x"})"));
    o->emplace("zzFutureNull", nullptr);
  } else if (auto* a = v.if_array()) {
    for (auto& x : *a)
      add_unknown_fields(x, skip);
  }
}

}  // namespace

TEST_CASE("newer server: unknown fields everywhere are ignored") {
  // Maps (additionalProperties) and free-form values keep every key by design.
  const std::set<std::string> skip = {"arguments",           "result",       "config",
                                      "rateLimitsByLimitId", "agentsStates", "answers",
                                      "outputSchema"};
  int checked = 0;
  for (const Entry& e : capture()) {
    if (e.kind != "notification") continue;
    INFO(e.method);
    json::value params = params_of(e.message);
    json::value future = params;
    add_unknown_fields(future, skip);
    t::Notification now = t::parse_notification(e.method, params.as_object());
    t::Notification later;
    REQUIRE_NOTHROW(later = t::parse_notification(e.method, future.as_object()));
    CHECK(later.well_formed);
    CHECK(payload_to_json(later.payload) == payload_to_json(now.payload));
    ++checked;
  }
  CHECK(checked > 250);
}

TEST_CASE("newer server: unknown enum values are kept and written back") {
  const json::value wire = json::parse(R"({
    "threadId": "t1",
    "turn": {"id": "u1", "items": [], "status": "paused", "itemsView": "partial",
             "error": {"message": "m", "codexErrorInfo": "quantumFailure"}}})");
  t::TurnCompletedNotification n;
  REQUIRE_NOTHROW(from_json(wire, n));
  CHECK(n.turn.status.value == t::TurnStatus::unknown);
  CHECK(n.turn.status.raw == "paused");
  CHECK(n.turn.status.wire() == "paused");
  REQUIRE(n.turn.items_view.has_value());
  CHECK(n.turn.items_view->value == t::TurnItemsView::unknown);
  const auto& info = *n.turn.error->codex_error_info;
  REQUIRE(std::holds_alternative<t::CodexErrorInfoValue>(info));
  CHECK(std::get<t::CodexErrorInfoValue>(info).raw == "quantumFailure");
  CHECK(to_json(n) == wire);
}

TEST_CASE("newer server: unknown union variants are kept as raw JSON") {
  const json::value item_wire =
      json::parse(R"({"type":"hologram","id":"h1","projection":{"x":1},"startedAtMs":5})");
  const json::value wire =
      json::object{{"threadId", "t1"}, {"turnId", "u1"}, {"item", item_wire}, {"completedAtMs", 7}};
  t::ParseError error;
  t::ItemCompletedNotification n;
  CHECK(from_json(wire, n, &error));
  CHECK(error.message.empty());
  REQUIRE(std::holds_alternative<t::UnknownVariant>(n.item));
  const auto& unknown = std::get<t::UnknownVariant>(n.item);
  CHECK(unknown.type == "hologram");
  CHECK(unknown.raw == item_wire);
  CHECK(to_json(n) == wire);

  // Untagged unions: a new CodexErrorInfo object and a new SessionSource object.
  auto info = t::parse<t::CodexErrorInfo>(json::parse(R"({"cosmicRay":{"severity":9}})"));
  REQUIRE(std::holds_alternative<t::UnknownVariant>(info));
  CHECK(std::get<t::UnknownVariant>(info).type == "cosmicRay");
  CHECK(to_json(info) == json::parse(R"({"cosmicRay":{"severity":9}})"));

  // Other tagged unions: thread status, account, user input, sandbox policy.
  auto status = t::parse<t::ThreadStatus>(json::parse(R"({"type":"hibernating","since":1})"));
  REQUIRE(std::holds_alternative<t::UnknownVariant>(status));
  CHECK(std::get<t::UnknownVariant>(status).type == "hibernating");
  auto account = t::parse<t::Account>(json::parse(R"({"type":"enterprisePassport"})"));
  CHECK(std::holds_alternative<t::UnknownVariant>(account));
  auto input = t::parse<t::UserInput>(json::parse(R"({"type":"smell","intensity":3})"));
  CHECK(std::holds_alternative<t::UnknownVariant>(input));
  auto policy = t::parse<t::SandboxPolicy>(json::parse(R"({"type":"quantumSandbox"})"));
  CHECK(std::holds_alternative<t::UnknownVariant>(policy));
  CHECK(to_json(policy) == json::parse(R"({"type":"quantumSandbox"})"));
}

TEST_CASE("newer server: unknown methods are delivered raw") {
  json::object params = json::parse(R"({"threadId":"t1","teleportedTo":"mars"})").as_object();
  t::Notification n;
  REQUIRE_NOTHROW(n = t::parse_notification("thread/teleported", params));
  CHECK(n.method == "thread/teleported");
  CHECK(std::holds_alternative<std::monostate>(n.payload));
  CHECK(n.params == params);
  CHECK(n.well_formed);

  t::ServerRequestPayload r = t::parse_server_request("item/telepathy/request", params);
  CHECK(std::holds_alternative<std::monostate>(r));
}

TEST_CASE("newer server: captured messages with mutated enums and item types never throw") {
  // Replace every string value at `type`/`status`/`phase` keys with a value no schema has.
  std::function<void(json::value&)> mutate = [&](json::value& v) {
    if (auto* o = v.if_object()) {
      for (auto& kv : *o) {
        if ((kv.key() == "type" || kv.key() == "status" || kv.key() == "phase") &&
            kv.value().is_string()) {
          kv.value() = "fromTheFuture";
        } else {
          mutate(kv.value());
        }
      }
    } else if (auto* a = v.if_array()) {
      for (auto& x : *a)
        mutate(x);
    }
  };
  int checked = 0;
  for (const Entry& e : capture()) {
    if (e.kind != "notification" && e.kind != "response") continue;
    json::value v = e.kind == "notification" ? params_of(e.message) : e.message.at("result");
    mutate(v);
    if (e.kind == "notification") {
      t::Notification n;
      REQUIRE_NOTHROW(n = t::parse_notification(e.method, v.as_object()));
      CHECK(payload_to_json(n.payload).is_object());
    } else {
      with_method(t::client_request_methods{}, e.method, [&](auto m) {
        using R = typename decltype(m)::result;
        R r;
        REQUIRE_NOTHROW(from_json(v, r));
        // Unknowns are kept: what comes back parses to the same value.
        CHECK(t::parse<R>(to_json(r)) == r);
      });
    }
    ++checked;
  }
  CHECK(checked > 300);
}

// ---------------------------------------------------------------- lenient parsing

TEST_CASE("parse problems are reported with a JSON Pointer and parsing goes on") {
  t::ParseError error;
  t::TurnCompletedNotification n;
  CHECK_FALSE(from_json(json::parse(R"({"threadId":"t","turn":{"id":"u","status":"completed",
      "items":[{"type":"agentMessage","id":"a","text":"ok"},
               {"type":"agentMessage","id":5,"text":"still read"}]}})"),
                        n, &error));
  CHECK(error.path == "/turn/items/1/id");
  CHECK(error.message == "expected a string");
  REQUIRE(n.turn.items.size() == 2);
  CHECK(std::get<t::AgentMessageThreadItem>(n.turn.items[1]).text == "still read");
  CHECK(n.turn.status == t::TurnStatus::completed);

  // An optional scalar of the wrong type is left empty (and reported).
  t::ParseError wrong_type;
  t::Turn turn;
  CHECK_FALSE(
      from_json(json::parse(R"({"id":"u","items":[],"status":"completed","durationMs":"long"})"),
                turn, &wrong_type));
  CHECK_FALSE(turn.duration_ms.has_value());
  CHECK(wrong_type.path == "/durationMs");
  CHECK(wrong_type.message == "expected an integer");

  t::ParseError missing;
  CHECK_FALSE(from_json(json::parse(R"({"threadId":"t"})"), n, &missing));
  CHECK(missing.path == "/turn");
  CHECK(missing.message == "missing required field");

  t::ParseError not_object;
  t::Notification bad =
      t::parse_notification("turn/completed", json::object{{"turn", 3}}, &not_object);
  CHECK_FALSE(bad.well_formed);
  CHECK(std::holds_alternative<t::TurnCompletedNotification>(bad.payload));
  CHECK(not_object.path == "/threadId");

  t::ParseError tagless;
  t::ThreadItem item;
  CHECK_FALSE(from_json(json::parse(R"({"id":"x"})"), item, &tagless));
  CHECK(std::holds_alternative<t::UnknownVariant>(item));
  CHECK_FALSE(tagless.message.empty());
}

TEST_CASE("malformed params never throw") {
  const char* garbage[] = {
      R"({})",
      R"({"threadId":5,"turnId":null,"turn":[],"item":"x","items":{},"delta":{"a":1}})",
      R"({"turn":{"items":[1,"two",null,{"type":7},{"type":"agentMessage","text":[]}]}})",
      R"({"item":{"type":"commandExecution","commandActions":[{"type":null}],"status":4}})",
      R"({"tokenUsage":{"total":{"totalTokens":1.5e300},"last":{"inputTokens":-1}}})",
      R"({"status":{"type":"active","activeFlags":[3,"waitingOnApproval",{}]}})",
      R"({"error":{"codexErrorInfo":{"httpConnectionFailed":"oops"},"message":1}})",
      R"({"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":"rm"}}})",
      R"({"questions":[{"id":1}],"permissions":{"fileSystem":[]},"requestedSchema":5})"};
  for (const char* g : garbage) {
    const json::object params = json::parse(g).as_object();
    for (std::string_view m : t::known_notification_methods) {
      INFO(m << " " << g);
      t::Notification n;
      REQUIRE_NOTHROW(n = t::parse_notification(std::string(m), params));
      CHECK_NOTHROW(payload_to_json(n.payload));
    }
    for (std::string_view m : t::known_server_request_methods) {
      INFO(m << " " << g);
      REQUIRE_NOTHROW(t::parse_server_request(m, params));
    }
  }
}

TEST_CASE("absent, null and values are kept apart") {
  const json::value with_null =
      json::parse(R"({"type":"agentMessage","id":"a","text":"","phase":null})");
  auto item = t::parse<t::ThreadItem>(with_null);
  const auto& msg = std::get<t::AgentMessageThreadItem>(item);
  CHECK_FALSE(msg.phase.has_value());
  CHECK(msg.phase.is_null());
  CHECK(msg.delivery.is_absent());
  CHECK(to_json(item) == with_null);

  t::AgentMessageThreadItem built;
  built.id = "b";
  built.phase = t::MessagePhase::final_answer;
  CHECK(to_json(built) ==
        json::parse(R"({"type":"agentMessage","id":"b","phase":"final_answer","text":""})"));
  built.phase = nullptr;
  CHECK(to_json(built).as_object().at("phase").is_null());
  built.phase.reset();
  CHECK_FALSE(to_json(built).as_object().contains("phase"));

  // A required nullable field is always written (null when empty).
  t::ChatgptAccount account;
  account.plan_type = t::PlanType::plus;
  CHECK(to_json(t::Account(account)) ==
        json::parse(R"({"type":"chatgpt","email":null,"planType":"plus"})"));
}

TEST_CASE("free-form JSON keeps null as a value") {
  const json::value wire = json::parse(R"({"_meta":null,"content":[null,{"a":1}]})");
  auto result = t::parse<t::McpToolCallResult>(wire);
  REQUIRE(result.meta.has_value());
  CHECK(result.meta->is_null());
  CHECK_FALSE(result.structured_content.has_value());
  CHECK(to_json(result) == wire);
}

TEST_CASE("enums map wire strings both ways") {
  CHECK(t::ThreadSourceKind::from_wire("appServer") == t::ThreadSourceKind::app_server);
  CHECK(t::ApprovalsReviewer(t::ApprovalsReviewer::auto_review).wire() == "auto_review");
  CHECK(t::SandboxMode::from_wire("workspace-write") == t::SandboxMode::workspace_write);
  // A protocol value spelled "unknown" is the `unknown` enumerator with an empty raw.
  auto plan = t::PlanType::from_wire("unknown");
  CHECK(plan == t::PlanType::unknown);
  CHECK(plan.raw.empty());
  CHECK(plan.wire() == "unknown");
  auto future = t::PlanType::from_wire("galactic");
  CHECK(future.value == t::PlanType::unknown);
  CHECK(future.wire() == "galactic");
  CHECK_FALSE(future == t::PlanType::unknown);
}

TEST_CASE("requests are built from typed params") {
  t::TurnStartParams p;
  p.thread_id = "t1";
  p.input.push_back(
      t::TextUserInput{.text = "Say hello.", .text_elements = std::vector<t::TextElement>{}});
  p.input.push_back(t::LocalImageUserInput{.detail = {}, .path = "/tmp/x.png"});
  p.sandbox_policy = t::WorkspaceWriteSandboxPolicy{.network_access = true};
  p.approval_policy = t::AskForApprovalValue::on_request;
  CHECK(to_json(p) == json::parse(R"({
    "approvalPolicy":"on-request",
    "input":[{"type":"text","text":"Say hello.","text_elements":[]},
             {"type":"localImage","path":"/tmp/x.png"}],
    "sandboxPolicy":{"type":"workspaceWrite","networkAccess":true},
    "threadId":"t1"})"));

  t::CommandExecutionRequestApprovalResponse accept;
  accept.decision = t::CommandExecutionApprovalDecisionValue::accept;
  CHECK(to_json(accept) == json::parse(R"({"decision":"accept"})"));
  t::AcceptWithExecpolicyAmendmentCommandExecutionApprovalDecision amend;
  amend.execpolicy_amendment = {"touch", "x"};
  accept.decision = amend;
  CHECK(
      to_json(accept) ==
      json::parse(
          R"({"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["touch","x"]}}})"));
}

TEST_CASE("method traits and lists") {
  STATIC_REQUIRE(t::methods::ThreadStart::name == "thread/start");
  STATIC_REQUIRE(std::is_same_v<t::methods::ThreadStart::params, t::ThreadStartParams>);
  STATIC_REQUIRE(std::is_same_v<t::methods::ThreadStart::result, t::ThreadStartResponse>);
  STATIC_REQUIRE(std::is_void_v<t::methods::AccountLogout::params>);
  STATIC_REQUIRE(std::is_same_v<t::methods::ItemCommandExecutionRequestApproval::result,
                                t::CommandExecutionRequestApprovalResponse>);
  CHECK(std::size(t::known_notification_methods) == 86);
  CHECK(std::size(t::known_server_request_methods) == 10);
  // Every known notification method has a typed payload.
  for (std::string_view m : t::known_notification_methods) {
    INFO(m);
    t::Notification n = t::parse_notification(std::string(m), json::object());
    CHECK_FALSE(std::holds_alternative<std::monostate>(n.payload));
  }
  CHECK(t::schema_cli_version == "0.169.0");
}

TEST_CASE("Boost.JSON value_from / value_to work for generated types") {
  t::ThreadTokenUsage usage;
  usage.total.total_tokens = 10;
  usage.last.input_tokens = 3;
  usage.model_context_window = 258400;
  const json::value v = json::value_from(usage);
  CHECK(v.at("total").at("totalTokens") == 10);
  CHECK(json::value_to<t::ThreadTokenUsage>(v) == usage);
  std::vector<t::TurnStatus> statuses{t::TurnStatus::completed, t::TurnStatus::failed};
  CHECK(json::value_from(statuses) == json::parse(R"(["completed","failed"])"));
  CHECK(from_json(json::parse(R"({"last":{},"total":{}})"), usage) == false);
}
