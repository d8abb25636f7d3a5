// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 06 thread_lifecycle_and_controls — twin of the Python SDK's
// examples/06_thread_lifecycle_and_controls.
//
// The thread controls, in order: two turns, `set_name`, `read` (with turns), `thread_list`,
// `thread_archive` + the archived listing, `thread_unarchive`, `thread_resume` and a turn on it,
// `thread_fork` and a turn on the fork, then `compact`: it returns at once and runs the
// compaction as a turn of its own, which this sample follows through the client-level
// `thread/status/changed` events (active, then idle).
//
//   06_thread_lifecycle_and_controls [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <chrono>
#include <iostream>
#include <vector>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using namespace std::chrono_literals;
using codex::testing::Response;

constexpr const char* kName = "sdk-lifecycle-demo";

void script(samples::SampleEnv& env) {
  env.script(Response::message("Plans break goals into ordered, checkable steps."));
  env.script(Response::message("Make a list of small steps and tick them off."));
  env.script(Response::message("Then review the list every morning."));
  env.script(Response::message("Or start from the deadline and plan backwards."));
  env.script(Response::message("Summary: planning = small ordered steps, reviewed daily."));
}

std::vector<std::string> listed_ids(const json::object& list) {
  std::vector<std::string> ids;
  for (const auto& t : samples::array_at(list, {"data"}))
    if (t.is_object()) ids.push_back(samples::str(t.get_object(), "id"));
  return ids;
}

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  for (const auto& x : ids)
    if (x == id) return true;
  return false;
}

/// Prints a turn result line like the Python sample (`<turn id> <status>`).
void print_turn(std::string_view label, const codex::TurnResult& r) {
  std::cout << label << r.id << " " << codex::to_string(r.status) << "\n";
}

/// A `thread/status/changed` event of `thread_id`: its status type, else "".
std::string status_change(const codex::Notification& n, const std::string& thread_id) {
  if (n.method != "thread/status/changed" || n.thread_id() != thread_id) return {};
  return samples::str_at(n.params, {"status", "type"});
}

/// The item types of the last turn of a `thread/read` result.
std::string last_turn_items(const json::object& read) {
  const json::array turns = samples::array_at(read, {"thread", "turns"});
  std::string out;
  if (!turns.empty() && turns.back().is_object())
    for (const auto& item : samples::array_at(turns.back().get_object(), {"items"}))
      if (item.is_object()) out += samples::item_type(item.get_object()) + " ";
  return out;
}

struct Report {
  std::string id;
  json::object reading;
  std::vector<std::string> active, archived;
  std::string unarchived_id, fork_id, forked_from;
  codex::TurnResult first, second, resumed, forked;
  json::object after_compaction;
};

void check_report(const Report& r) {
  std::cout << "Lifecycle OK: " << r.id << "\n";
  print_turn("first: ", r.first);
  print_turn("second: ", r.second);
  std::cout << "read.name: " << samples::str_at(r.reading, {"thread", "name"}) << "\n"
            << "read.turns: " << samples::array_at(r.reading, {"thread", "turns"}).size() << "\n"
            << "list.active: " << r.active.size() << "\n"
            << "list.archived: " << r.archived.size() << "\n";
  print_turn("resumed: ", r.resumed);
  std::cout << "forked: " << r.fork_id << " (from " << r.forked_from << ") ";
  print_turn("", r.forked);
  std::cout << "compact: done; turns now "
            << samples::array_at(r.after_compaction, {"thread", "turns"}).size()
            << ", last turn items: " << last_turn_items(r.after_compaction) << "\n";

  samples::check(samples::str_at(r.reading, {"thread", "name"}) == kName, "set_name then read");
  samples::check(samples::array_at(r.reading, {"thread", "turns"}).size() == 2,
                 "read(include_turns) returns both turns");
  samples::check(contains(r.active, r.id), "thread_list lists the thread");
  samples::check(contains(r.archived, r.id), "thread_list(archived) lists it once archived");
  samples::check(r.unarchived_id == r.id, "thread_unarchive keeps the id");
  samples::check(r.resumed.status == codex::TurnStatus::completed, "a turn on the resumed thread");
  samples::check(r.fork_id != r.id && r.forked_from == r.id, "the fork is a new thread");
  samples::check(r.forked.status == codex::TurnStatus::completed, "a turn on the fork");
  samples::check(last_turn_items(r.after_compaction).find("contextCompaction") != std::string::npos,
                 "the compaction ran as a turn");
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  Report r;
  // snippet-begin: lifecycle_sync
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();
  r.id = thread.id();
  r.first = thread.run("One sentence about structured planning.");
  r.second = thread.run("Now restate it for a junior engineer.");

  thread.set_name(kName);
  r.reading = thread.read({.include_turns = true});
  r.active = listed_ids(codex.thread_list({.limit = 20}));

  codex.thread_archive(thread.id());
  r.archived = listed_ids(codex.thread_list({.archived = true, .limit = 20}));
  codex::Thread unarchived = codex.thread_unarchive(thread.id());
  r.unarchived_id = unarchived.id();

  codex::Thread resumed = codex.thread_resume(unarchived.id());
  r.resumed = resumed.run("Continue in one short sentence.");

  codex::Thread fork = codex.thread_fork(unarchived.id());
  r.fork_id = fork.id();
  r.forked_from = samples::str_at(fork.response(), {"thread", "forkedFromId"});
  r.forked = fork.run("Take a different angle in one short sentence.");

  // Forget the status events so far, then follow the compaction: active, then idle again.
  for (;;)
    try {
      codex.next_event(1ms);
    } catch (const codex::TimeoutError&) {
      break;
    }
  resumed.compact();  // returns {} at once
  for (bool active = false;;) {
    std::string status = status_change(codex.next_event(30s), resumed.id());
    if (!status.empty()) std::cout << "thread/status/changed -> " << status << "\n";
    if (status == "active") active = true;
    if (status == "idle" && active) break;
  }
  r.after_compaction = resumed.read({.include_turns = true});
  // snippet-end: lifecycle_sync
  check_report(r);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  Report r;
  auto executor = co_await boost::asio::this_coro::executor;
  // snippet-begin: lifecycle_async
  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread thread = co_await codex.thread_start();
  r.id = thread.id();
  codex::Input first("One sentence about structured planning.");
  r.first = co_await thread.run(std::move(first));
  codex::Input second("Now restate it for a junior engineer.");
  r.second = co_await thread.run(std::move(second));

  co_await thread.set_name(kName);
  codex::ReadOptions with_turns{.include_turns = true};
  r.reading = co_await thread.read(with_turns);
  codex::ThreadListOptions active_only{.limit = 20};
  json::object active = co_await codex.thread_list(std::move(active_only));
  r.active = listed_ids(active);

  co_await codex.thread_archive(thread.id());
  codex::ThreadListOptions archived_only{.archived = true, .limit = 20};
  json::object archived = co_await codex.thread_list(std::move(archived_only));
  r.archived = listed_ids(archived);
  codex::AsyncThread unarchived = co_await codex.thread_unarchive(thread.id());
  r.unarchived_id = unarchived.id();

  codex::AsyncThread resumed = co_await codex.thread_resume(unarchived.id());
  codex::Input third("Continue in one short sentence.");
  r.resumed = co_await resumed.run(std::move(third));

  codex::AsyncThread fork = co_await codex.thread_fork(unarchived.id());
  r.fork_id = fork.id();
  r.forked_from = samples::str_at(fork.response(), {"thread", "forkedFromId"});
  codex::Input fourth("Take a different angle in one short sentence.");
  r.forked = co_await fork.run(std::move(fourth));

  for (;;) {
    try {
      co_await codex.next_event(1ms);
    } catch (const codex::TimeoutError&) {
      break;
    }
  }
  co_await resumed.compact();
  for (bool active_seen = false;;) {
    codex::Notification n = co_await codex.next_event(30s);
    std::string status = status_change(n, resumed.id());
    if (!status.empty()) std::cout << "thread/status/changed -> " << status << "\n";
    if (status == "active") active_seen = true;
    if (status == "idle" && active_seen) break;
  }
  r.after_compaction = co_await resumed.read(with_turns);
  // snippet-end: lifecycle_async
  check_report(r);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "06_thread_lifecycle_and_controls", sync_main, async_main);
}
