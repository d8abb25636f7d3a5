// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 12 turn_params_kitchen_sink — twin of the Python SDK's examples/12_turn_params_kitchen_sink.
//
// One turn with most of the `TurnOptions`: approval mode, cwd, effort, model, output schema
// (structured output), personality, sandbox and reasoning summary, on a thread started with a
// model and a config override. Then:
//   * the final response is JSON matching the schema, parsed with Boost.JSON;
//   * `thread_resume` shows that the turn-level settings persist on the thread;
//   * offline, the sample checks what reached the model (model, reasoning, text.format).
//
// About `gpt-5.4` (the Python sample's model): the sample looks it up in `models()` first. The
// catalog bundled with the pinned CLI does not list it, and with the offline configuration
// (a custom model provider on 127.0.0.1) the server does not check the name: the turn runs and
// the request to the provider carries `"model":"gpt-5.4"` — which the sample asserts. Against
// the real service an unknown model makes the turn fail instead.
//
//   12_turn_params_kitchen_sink [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <filesystem>
#include <iostream>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;
using codex::testing::Response;

constexpr const char* kModel = "gpt-5.4";
constexpr const char* kPrompt =
    "Analyze a safe rollout plan for enabling a feature flag in production. "
    "Return JSON matching the requested schema.";

json::object output_schema() {
  return json::parse(R"({
    "type": "object",
    "properties": {
      "summary": {"type": "string"},
      "actions": {"type": "array", "items": {"type": "string"}}
    },
    "required": ["summary", "actions"],
    "additionalProperties": false
  })")
      .as_object();
}

void script(samples::SampleEnv& env) {
  env.script(
      Response::message(R"({"summary":"Ship dark, then ramp up while watching the metrics.",)"
                        R"("actions":["Deploy with the flag off","Enable for 1% of users",)"
                        R"("Ramp to 100% on green metrics"]})",
                        {.deltas = 4}));
}

std::string cwd_for(samples::SampleEnv& env) {
  return env.workspace().empty() ? std::filesystem::current_path().string() : env.workspace();
}

bool in_catalog(const json::object& models, std::string_view name) {
  for (const auto& m : samples::array_at(models, {"data"}))
    if (m.is_object() && (samples::str(m.get_object(), "id") == name ||
                          samples::str(m.get_object(), "model") == name))
      return true;
  return false;
}

// snippet-begin: kitchen_sink_options
codex::ThreadStartOptions thread_options() {
  return {.config = json::object{{"model_reasoning_effort", "high"}}, .model = kModel};
}

codex::TurnOptions turn_options(std::string cwd) {
  return {
      .approval_mode = codex::ApprovalMode::deny_all,  // approvalPolicy "never"
      .cwd = std::move(cwd),
      .effort = "medium",
      .model = kModel,
      .output_schema = output_schema(),  // this turn only
      .personality = "pragmatic",
      .sandbox = codex::Sandbox::read_only,
      .summary = "concise",
      .timeout = std::chrono::seconds(60),  // of the turn/start request
  };
}
// snippet-end: kitchen_sink_options

void report(samples::SampleEnv& env, bool listed, const codex::TurnResult& r,
            const json::object& resumed) {
  std::cout << kModel << " in the model catalog: " << (listed ? "yes" : "no") << "\n"
            << "Status: " << codex::to_string(r.status) << "\n"
            << "Text: " << r.final_response.value_or("<none>") << "\n";
  if (r.usage) std::cout << "Usage: " << samples::usage_line(r.usage->last) << "\n";
  samples::check(r.status == codex::TurnStatus::completed, "the turn completed");

  // Structured output: the final message is JSON matching the schema.
  const json::value plan = json::parse(r.final_response.value_or("null"));
  const json::object& o = plan.as_object();
  std::cout << "plan.summary: " << samples::str(o, "summary") << "\n";
  for (const auto& a : samples::array_at(o, {"actions"}))
    std::cout << "plan.action: " << std::string_view(a.as_string()) << "\n";
  samples::check(!samples::str(o, "summary").empty() && !samples::array_at(o, {"actions"}).empty(),
                 "the final response parses as the schema's JSON");

  // Turn-level overrides persist on the thread (output_schema does not: it is per turn).
  std::cout << "thread now: model " << samples::str(resumed, "model") << ", effort "
            << samples::str(resumed, "reasoningEffort") << ", approvalPolicy "
            << json::serialize(resumed.at("approvalPolicy")) << ", sandbox "
            << samples::str_at(resumed, {"sandbox", "type"}) << "\n";
  samples::check(samples::str(resumed, "model") == kModel, "the thread keeps the turn's model");
  samples::check(samples::str_at(resumed, {"sandbox", "type"}) == "readOnly",
                 "the thread keeps the turn's sandbox");

  if (auto* model = env.model()) {
    const json::object body = samples::last_model_request(*model).json.as_object();
    std::cout << "request.model: " << samples::str(body, "model") << "\n"
              << "request.reasoning: " << json::serialize(body.at("reasoning")) << "\n"
              << "request.text.format: type " << samples::str_at(body, {"text", "format", "type"})
              << ", name " << samples::str_at(body, {"text", "format", "name"}) << "\n";
    samples::check(!listed && samples::str(body, "model") == kModel,
                   "a model missing from the catalog still reaches the offline mock provider");
    samples::check(samples::str_at(body, {"reasoning", "effort"}) == "medium" &&
                       samples::str_at(body, {"reasoning", "summary"}) == "concise",
                   "effort and summary reach the model");
    const json::value* schema = samples::at_path(body, {"text", "format", "schema"});
    samples::check(schema && *schema == json::value(output_schema()),
                   "the output schema reaches the model");
  }
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  // snippet-begin: kitchen_sink_sync
  codex::Codex codex(env.config());
  const bool listed = in_catalog(codex.models({.include_hidden = true}), kModel);

  codex::Thread thread = codex.thread_start(thread_options());
  codex::TurnResult result = thread.turn(kPrompt, turn_options(cwd_for(env))).run();
  // snippet-end: kitchen_sink_sync
  const json::object resumed = codex.thread_resume(thread.id()).response();
  report(env, listed, result, resumed);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  auto executor = co_await boost::asio::this_coro::executor;
  // snippet-begin: kitchen_sink_async
  codex::AsyncCodex codex(executor, env.config());
  codex::ModelsOptions all_models{.include_hidden = true};
  const json::object models = co_await codex.models(std::move(all_models));
  const bool listed = in_catalog(models, kModel);

  codex::ThreadStartOptions start = thread_options();
  codex::AsyncThread thread = co_await codex.thread_start(std::move(start));
  codex::Input prompt(kPrompt);
  codex::TurnOptions options = turn_options(cwd_for(env));
  codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt), std::move(options));
  codex::TurnResult result = co_await turn.run();
  // snippet-end: kitchen_sink_async
  codex::AsyncThread resumed = co_await codex.thread_resume(thread.id());
  report(env, listed, result, resumed.response());
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "12_turn_params_kitchen_sink", sync_main, async_main);
}
