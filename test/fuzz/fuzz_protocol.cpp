// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// libFuzzer target over what the SDK does with server output: line framing (any chunking),
// JSON parsing, message classification (response / notification / server request / garbage),
// turn routing with a claimed turn and a live subscription, login routing, and the fail-closed
// server-request replies. Invariants checked: no crash, no sanitizer report, and every event
// routed to the claimed turn is readable in order.
#include "engine.hpp"
#include "framer.hpp"

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

struct Sink : codex::MessageSink {
  codex::detail::Engine* engine;
  void on_message(std::string_view m) override { engine->on_message(m); }
  void on_oversize(std::size_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  boost::asio::io_context ioc;
  codex::CodexConfig cfg;
  cfg.limits.max_line_bytes = 4096;
  cfg.limits.max_client_events = 8;
  cfg.limits.max_unclaimed_turns = 4;
  cfg.limits.max_unclaimed_turn_events = 16;
  auto engine = std::make_shared<codex::detail::Engine>(ioc.get_executor(), cfg);
  auto core = engine->claim_turn("thread-1", "turn-1");
  auto sub = engine->subscribe(core->state);

  Sink sink;
  sink.engine = engine.get();
  codex::detail::LineFramer framer(cfg.limits.max_line_bytes, 64);
  // The first byte picks the chunk size, so framing is exercised at many split points.
  std::size_t chunk = 1 + (data[0] % 97);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!rest.empty()) {
    auto n = std::min(chunk, rest.size());
    framer.feed(rest.substr(0, n), sink);
    rest.remove_prefix(n);
    ioc.poll();  // run the server-request handlers spawned so far
  }
  while (auto ev = sub->try_next()) {
    if (ev->turn_id() != "turn-1" && !ev->is_request()) __builtin_trap();
  }
  engine->kill_now();
  ioc.poll();
  return 0;
}
