// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// progress_display — a terminal progress display for one turn (C++ only).
//
// Streams a turn and keeps a live status line up to date: agent message deltas, characters,
// elapsed time. The reasoning summary is shown as it streams, and every tool call is printed
// when it starts (the command) and when it ends (exit code and output). On a terminal the status
// line is redrawn in place; when the output is a pipe or a log, it is printed every few deltas.
//
//   progress_display [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using namespace std::chrono_literals;
using codex::testing::Response;
using Clock = std::chrono::steady_clock;

void script(samples::SampleEnv& env) {
  env.script(Response::reasoning("Plan: look at what is there, then summarize it briefly.",
                                 {.deltas = 6, .delay = 20ms})
                 .then_exec_command("echo alpha beta gamma"));
  env.script(Response::message(
      "The command printed three words: alpha, beta and gamma. They look like placeholder "
      "names, the kind a test fixture uses, so there is nothing to worry about here.",
      {.deltas = 24, .delay = 25ms}));
}

// snippet-begin: progress_display
/// The state of the display, updated from each event.
class Progress {
 public:
  Progress() : tty_(::isatty(STDOUT_FILENO) != 0) {}

  void on_event(const codex::Notification& ev) {
    if (ev.method == "item/agentMessage/delta") {
      ++deltas_;
      chars_ += ev.delta().size();
      if (tty_ || deltas_ % 8 == 0) draw();
    } else if (ev.method == "item/reasoning/summaryTextDelta") {
      if (reasoning_.empty()) line("reasoning: ");
      reasoning_ += ev.delta();
      std::cout << ev.delta() << std::flush;
    } else if (ev.method == "item/started" || ev.method == "item/completed") {
      const json::object* item = nullptr;
      if (const auto* v = ev.params.if_contains("item"); v && v->is_object())
        item = &v->get_object();
      if (item) on_item(ev.method == "item/started", *item);
    } else if (ev.method == "turn/completed") {
      status_ = samples::str_at(ev.params, {"turn", "status"});
      draw();
      std::cout << "\n";
      open_line_ = false;
    }
  }

  int deltas() const { return deltas_; }
  std::size_t chars() const { return chars_; }
  int tool_calls() const { return tool_calls_; }
  /// The last finished tool call's exit code (as JSON, "?" when absent) and output.
  const std::string& tool_exit() const { return tool_exit_; }
  const std::string& tool_output() const { return tool_output_; }
  const std::string& reasoning() const { return reasoning_; }
  const std::string& status() const { return status_; }

 private:
  void on_item(bool started, const json::object& item) {
    const std::string type = samples::item_type(item);
    if (type == "commandExecution" && started) {
      ++tool_calls_;
      line("tool> $ " + samples::str(item, "command") + "\n");
      open_line_ = false;
    } else if (type == "commandExecution") {
      const auto* code = item.if_contains("exitCode");
      tool_exit_ = code ? json::serialize(*code) : std::string("?");
      tool_output_ = samples::str(item, "aggregatedOutput");
      line("tool< exit " + tool_exit_ + ": " + samples::preview(tool_output_, 60) + "\n");
      open_line_ = false;
    } else if (type == "reasoning" && !started && !reasoning_.empty()) {
      std::cout << "\n";
      open_line_ = false;
    }
  }

  /// Starts a new line of output (ends the status line if it is showing).
  void line(const std::string& text) {
    if (open_line_) std::cout << "\n";
    std::cout << text << std::flush;
    open_line_ = true;
  }

  void draw() {
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    std::ostringstream s;
    s << "[" << (status_.empty() ? "streaming" : status_) << "] " << deltas_ << " deltas, "
      << chars_ << " chars, " << std::fixed << std::setprecision(1) << secs << " s";
    if (tty_) {
      std::cout << "\r" << std::left << std::setw(60) << s.str() << std::flush;
    } else {
      if (open_line_) std::cout << "\n";
      std::cout << s.str() << std::flush;
    }
    open_line_ = true;
  }

  bool tty_;
  Clock::time_point start_ = Clock::now();
  int deltas_ = 0;
  std::size_t chars_ = 0;
  int tool_calls_ = 0;
  std::string tool_exit_;
  std::string tool_output_;
  std::string reasoning_;
  std::string status_;
  bool open_line_ = false;
};
// snippet-end: progress_display

int run(samples::SampleEnv& env) {
  script(env);
  codex::Codex codex(env.config());
  // No approvals (the command runs in the workspace sandbox, or not at all).
  codex::Thread thread = codex.thread_start(
      {.approval_mode = codex::ApprovalMode::deny_all, .sandbox = codex::Sandbox::workspace_write});

  // snippet-begin: progress_display_loop
  Progress progress;
  codex::TurnHandle turn =
      thread.turn("Run `echo alpha beta gamma` and tell me what it printed, in two sentences.");
  codex::TurnStream events = turn.stream();
  for (const codex::Notification& ev : events)
    progress.on_event(ev);
  codex::TurnResult result = events.result();
  // snippet-end: progress_display_loop

  std::cout << "answer: " << result.final_response.value_or("<none>") << "\n";
  samples::check(progress.status() == "completed", "the turn completed");
  if (!env.online()) {
    samples::check(progress.deltas() > 1 && result.final_response &&
                       progress.chars() == result.final_response->size(),
                   "the deltas add up to the answer");
    samples::check(progress.tool_calls() == 1, "one tool call was shown");
    samples::check(
        progress.tool_exit() == "0" &&
            progress.tool_output().find("alpha beta gamma") != std::string::npos,
        "the tool call's result was shown (exit " +
            (progress.tool_exit().empty() ? std::string("<none>") : progress.tool_exit()) +
            ", output \"" + samples::preview(progress.tool_output(), 60) + "\")");
    samples::check(progress.reasoning().rfind("Plan:", 0) == 0, "the reasoning summary streamed");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "progress_display", run);
}
