// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 13 model_select_and_turn_params — twin of the Python SDK's
// examples/13_model_select_and_turn_params.
//
// Lists the models (`models({.include_hidden = true})`), picks the "highest" one with the Python
// sample's rule (`gpt-5.4` when listed, else among the visible models that are not upgraded to
// another listed one, the greatest name) and its highest supported reasoning effort (rank
// none < minimal < low < medium < high < xhigh < max < ultra). It starts a thread on that model
// — falling back to the server's default model, and saying so, if the server refuses it — then
// runs two turns and prints their usage.
//
// Offline, the catalog is the one bundled with the pinned CLI, while the model provider is the
// scripted one on 127.0.0.1: the server accepts the catalog model and the turns reach the
// scripted model with that model name (the sample checks it). The effort that goes on the wire
// is the server's choice (0.169.0 sends `xhigh` for `ultra` to a custom provider); it is printed.
//
//   13_model_select_and_turn_params [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <filesystem>
#include <iostream>
#include <map>
#include <set>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using codex::testing::Response;

constexpr const char* kPreferredModel = "gpt-5.4";

void script(samples::SampleEnv& env) {
  env.script(Response::message("Reliable releases are small, reversible and observed.")
                 .with_usage({.input_tokens = 200, .output_tokens = 12}));
  env.script(Response::message(R"({"summary":"Ramp the flag gradually.",)"
                               R"("actions":["1% for a day","10% for a day","100%"]})")
                 .with_usage({.input_tokens = 260, .output_tokens = 30}));
}

// snippet-begin: model_select_pick
int effort_rank(std::string_view effort) {
  static const std::map<std::string_view, int> rank = {{"none", 0},   {"minimal", 1}, {"low", 2},
                                                       {"medium", 3}, {"high", 4},    {"xhigh", 5},
                                                       {"max", 6},    {"ultra", 7}};
  auto it = rank.find(effort);
  return it == rank.end() ? -1 : it->second;
}

/// The Python sample's "highest model" rule.
json::object pick_model(const json::array& models) {
  std::vector<json::object> visible, all;
  for (const auto& m : models) {
    if (!m.is_object()) continue;
    all.push_back(m.get_object());
    const auto* hidden = m.get_object().if_contains("hidden");
    if (!(hidden && hidden->is_bool() && hidden->get_bool())) visible.push_back(m.get_object());
  }
  if (visible.empty()) visible = all;
  if (visible.empty()) throw std::runtime_error("the model catalog is empty");
  std::set<std::string> known;
  for (const auto& m : visible) {
    if (samples::str(m, "model") == kPreferredModel || samples::str(m, "id") == kPreferredModel)
      return m;
    known.insert(samples::str(m, "id"));
    known.insert(samples::str(m, "model"));
  }
  std::vector<json::object> pool;
  for (const auto& m : visible)
    if (!known.contains(samples::str(m, "upgrade"))) pool.push_back(m);
  if (pool.empty()) pool = visible;
  const json::object* best = &pool.front();
  for (const auto& m : pool)
    if (std::pair(samples::str(m, "model"), samples::str(m, "id")) >
        std::pair(samples::str(*best, "model"), samples::str(*best, "id")))
      best = &m;
  return *best;
}

/// The highest supported reasoning effort (`medium` when the model lists none).
std::string pick_effort(const json::object& model) {
  std::string best;
  for (const auto& e : samples::array_at(model, {"supportedReasoningEfforts"})) {
    if (!e.is_object()) continue;
    std::string effort = samples::str(e.get_object(), "reasoningEffort");
    if (best.empty() || effort_rank(effort) > effort_rank(best)) best = effort;
  }
  return best.empty() ? "medium" : best;
}
// snippet-end: model_select_pick

json::object output_schema() {
  return json::parse(R"({"type":"object","properties":{"summary":{"type":"string"},)"
                     R"("actions":{"type":"array","items":{"type":"string"}}},)"
                     R"("required":["summary","actions"],"additionalProperties":false})")
      .as_object();
}

/// The first turn's options: the selected model (when the server took it) and effort.
codex::TurnOptions simple_options(const std::optional<std::string>& model,
                                  const std::string& effort) {
  return {.effort = effort, .model = model};
}

/// The second turn's options: most of the others too.
codex::TurnOptions full_options(const std::optional<std::string>& model, const std::string& effort,
                                std::string cwd) {
  return {.approval_mode = codex::ApprovalMode::deny_all,
          .cwd = std::move(cwd),
          .effort = effort,
          .model = model,
          .output_schema = output_schema(),
          .personality = "pragmatic",
          .sandbox = codex::Sandbox::read_only,
          .summary = "concise"};
}

codex::ThreadStartOptions thread_options(const std::string& model, const std::string& effort) {
  return {.config = json::object{{"model_reasoning_effort", effort}}, .model = model};
}

std::string cwd_for(samples::SampleEnv& env) {
  return env.workspace().empty() ? std::filesystem::current_path().string() : env.workspace();
}

void print_selection(const json::object& model, const std::string& effort) {
  std::cout << "selected.model: " << samples::str(model, "model") << " (\""
            << samples::str(model, "displayName") << "\")\n"
            << "selected.effort: " << effort << "\n";
}

void print_refusal(const std::string& model, const codex::JsonRpcError& e) {
  std::cout << "the server refused model " << model << " (" << e.rpc_message()
            << "): the thread uses the server's default model instead\n";
}

void print_turns(samples::SampleEnv& env, const json::object& thread_response,
                 const std::optional<std::string>& model, const codex::TurnResult& first,
                 const codex::TurnResult& second) {
  std::cout << "thread.model: " << samples::str(thread_response, "model") << "\n"
            << "agent.message: " << first.final_response.value_or("<none>") << "\n"
            << "usage: " << (first.usage ? samples::usage_line(first.usage->last) : "<none>")
            << "\n"
            << "agent.message.params: " << second.final_response.value_or("<none>") << "\n"
            << "usage.params: "
            << (second.usage ? samples::usage_line(second.usage->last) : "<none>") << "\n";
  samples::check(
      first.status == codex::TurnStatus::completed && second.status == codex::TurnStatus::completed,
      "both turns completed");
  samples::check(first.usage && second.usage, "both turns report their usage");
  if (auto* m = env.model()) {
    const json::object body = samples::last_model_request(*m).json.as_object();
    std::cout << "offline: the turns went to the scripted model as model \""
              << samples::str(body, "model") << "\", effort \""
              << samples::str_at(body, {"reasoning", "effort"}) << "\"\n";
    samples::check(model.has_value() && samples::str(body, "model") == *model,
                   "the server accepted the catalog model and sent it to the provider");
  }
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  // snippet-begin: model_select_sync
  codex::Codex codex(env.config());
  const json::object selected =
      pick_model(samples::array_at(codex.models({.include_hidden = true}), {"data"}));
  const std::string effort = pick_effort(selected);
  print_selection(selected, effort);

  std::optional<std::string> model = samples::str(selected, "model");
  std::optional<codex::Thread> thread;
  try {
    thread.emplace(codex.thread_start(thread_options(*model, effort)));
  } catch (const codex::JsonRpcError& e) {
    print_refusal(*model, e);
    model.reset();
    thread.emplace(codex.thread_start());
  }
  codex::TurnResult first = thread->run(
      "Give one short sentence about reliable production releases.", simple_options(model, effort));
  codex::TurnResult second = thread->run("Return JSON for a safe feature-flag rollout plan.",
                                         full_options(model, effort, cwd_for(env)));
  // snippet-end: model_select_sync
  print_turns(env, thread->response(), model, first, second);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  auto executor = co_await boost::asio::this_coro::executor;
  // snippet-begin: model_select_async
  codex::AsyncCodex codex(executor, env.config());
  codex::ModelsOptions all_models{.include_hidden = true};
  const json::object models = co_await codex.models(std::move(all_models));
  const json::object selected = pick_model(samples::array_at(models, {"data"}));
  const std::string effort = pick_effort(selected);
  print_selection(selected, effort);

  std::optional<std::string> model = samples::str(selected, "model");
  codex::AsyncThread thread;
  bool refused = false;
  try {
    codex::ThreadStartOptions start = thread_options(*model, effort);
    thread = co_await codex.thread_start(std::move(start));
  } catch (const codex::JsonRpcError& e) {
    print_refusal(*model, e);
    refused = true;
  }
  if (refused) {  // (no co_await inside a catch block)
    model.reset();
    thread = co_await codex.thread_start();
  }
  codex::Input first_prompt("Give one short sentence about reliable production releases.");
  codex::TurnOptions first_options = simple_options(model, effort);
  codex::TurnResult first = co_await thread.run(std::move(first_prompt), std::move(first_options));
  codex::Input second_prompt("Return JSON for a safe feature-flag rollout plan.");
  codex::TurnOptions second_options = full_options(model, effort, cwd_for(env));
  codex::TurnResult second =
      co_await thread.run(std::move(second_prompt), std::move(second_options));
  // snippet-end: model_select_async
  print_turns(env, thread.response(), model, first, second);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "13_model_select_and_turn_params", sync_main, async_main);
}
