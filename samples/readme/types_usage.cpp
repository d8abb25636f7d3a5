// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// docs/types.md quotes this file: the typed protocol models (`codex::types`) in use. Compiled in
// CI (target `readme_snippets`), never run.
#include <boost/json/serialize.hpp>

#include <iostream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

// snippet-begin: types_overview
#include "codex/types/types.hpp"
namespace t = codex::types;

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

boost::json::value on_notification(std::string method, boost::json::object params,
                                   const std::string& id) {
  t::Notification n = t::parse_notification(method, std::move(params));  // never throws on content
  if (auto* done = std::get_if<t::ItemCompletedNotification>(&n.payload)) {
    std::visit(overloaded{[](const t::AgentMessageThreadItem& m) { std::cout << m.text; },
                          [](const t::CommandExecutionThreadItem& c) { std::cout << c.command; },
                          [](const t::UnknownVariant& u) {  // newer than this SDK (u.raw)
                            std::cout << "an item of type " << u.type;
                          },
                          [](const auto&) {}},
               done->item);
  }
  if (auto* turn = std::get_if<t::TurnCompletedNotification>(&n.payload);
      turn && turn->turn.status == t::TurnStatus::failed && turn->turn.error) {
    std::cout << turn->turn.error->message;
  }

  t::TurnStartParams p;
  p.thread_id = id;
  p.input.push_back(t::TextUserInput{.text = "Say hello."});
  p.approval_policy = t::AskForApprovalValue::on_request;
  return to_json(p);  // wire names, absent optionals omitted
}
// snippet-end: types_overview

bool round_trip(const boost::json::value& wire) {
  // snippet-begin: types_conversions
  t::ParseError error;
  t::TurnStartParams params;
  bool ok = from_json(wire, params, &error);  // lenient: fills `params` as far as `wire` allows
  boost::json::value back = to_json(params);  // wire names; absent optionals omitted
  // snippet-end: types_conversions
  if (!ok) std::cerr << error.path << ": " << error.message << "\n";
  return ok && back == wire;
}

void inspect(std::string method, boost::json::object params) {
  // snippet-begin: types_notification
  t::ParseError error;
  t::Notification n = t::parse_notification(std::move(method), std::move(params), &error);
  const std::string& name = n.method;
  const t::NotificationPayload& payload = n.payload;  // OneOf<std::monostate, ...>
  const boost::json::object& raw = n.params;          // as received (moved in, not copied)
  if (!n.well_formed)  // a known method whose params did not match the schema
    std::cerr << name << ": " << error.path << ": " << error.message << "\n";
  if (std::holds_alternative<std::monostate>(payload))  // a method newer than this SDK
    std::cerr << name << ": " << boost::json::serialize(raw) << "\n";

  t::NotificationPayload again = t::parse_notification_params(name, raw);  // the payload alone
  t::ServerRequestPayload request = t::parse_server_request("item/tool/call", raw);
  static_assert(std::extent_v<decltype(t::known_notification_methods)> == 86);
  static_assert(std::extent_v<decltype(t::known_server_request_methods)> == 10);
  // snippet-end: types_notification
  (void)again;
  (void)request;
}
