// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 04 models_and_metadata — twin of the Python SDK's examples/04_models_and_metadata.
//
// Reads the server's `initialize` metadata and the model catalog (`model/list`): every model's
// id, name, default reasoning effort and supported efforts. Also pages through the catalog with
// `limit`/`cursor` (C++ only: the Python SDK has neither) and counts the hidden models.
//
//   04_models_and_metadata [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <iostream>

namespace {

namespace samples = codex::samples;
namespace json = boost::json;

void print_metadata(const codex::InitializeResponse& md) {
  std::cout << "server:   " << md.server_name << " " << md.server_version << "\n"
            << "agent:    " << md.user_agent << "\n"
            << "home:     " << md.codex_home.value_or("<not reported>") << "\n"
            << "platform: " << md.platform_family.value_or("?") << "/"
            << md.platform_os.value_or("?") << "\n";
}

/// Prints the catalog; returns the number of models listed.
std::size_t print_models(const json::object& models) {
  const json::array data = samples::array_at(models, {"data"});
  std::cout << "models (" << data.size() << "):\n";
  for (const auto& m : data) {
    const json::object& o = m.as_object();
    std::cout << "  " << samples::str(o, "id") << "  \"" << samples::str(o, "displayName") << "\"";
    if (const auto* d = o.if_contains("isDefault"); d && d->is_bool() && d->get_bool())
      std::cout << "  [default]";
    std::cout << "\n    default effort: " << samples::str(o, "defaultReasoningEffort")
              << "; supported:";
    for (const auto& e : samples::array_at(o, {"supportedReasoningEfforts"}))
      if (e.is_object()) std::cout << " " << samples::str(e.get_object(), "reasoningEffort");
    std::cout << "\n";
  }
  return data.size();
}

std::string cursor_of(const json::object& page) {
  return samples::str(page, "nextCursor");
}

void check_all(std::size_t visible, std::size_t with_hidden, std::size_t first_page,
               const std::string& cursor, std::size_t second_page) {
  std::cout << "visible: " << visible << ", with hidden: " << with_hidden
            << ", first page: " << first_page
            << ", next cursor: " << (cursor.empty() ? "<none>" : cursor)
            << ", second page: " << second_page << "\n";
  samples::check(visible > 0, "the catalog is not empty");
  samples::check(with_hidden >= visible, "include_hidden lists at least as many models");
  samples::check(first_page >= 1 && first_page <= 2, "limit=2 returns at most 2 models");
  samples::check(visible <= 2 || (!cursor.empty() && second_page >= 1),
                 "the cursor leads to the next page");
}

int sync_main(samples::SampleEnv& env) {
  // snippet-begin: models_and_metadata_sync
  codex::Codex codex(env.config());
  print_metadata(codex.metadata());

  json::object models = codex.models();
  const std::size_t visible = print_models(models);
  const std::size_t with_hidden =
      samples::array_at(codex.models({.include_hidden = true}), {"data"}).size();

  json::object page = codex.models({.limit = 2});
  std::size_t second = 0;
  if (std::string cursor = cursor_of(page); !cursor.empty())
    second = samples::array_at(codex.models({.cursor = cursor, .limit = 2}), {"data"}).size();
  // snippet-end: models_and_metadata_sync
  check_all(visible, with_hidden, samples::array_at(page, {"data"}).size(), cursor_of(page),
            second);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  // snippet-begin: models_and_metadata_async
  auto executor = co_await boost::asio::this_coro::executor;
  codex::AsyncCodex codex(executor, env.config());
  co_await codex.start();
  print_metadata(codex.metadata());

  json::object models = co_await codex.models();
  const std::size_t visible = print_models(models);
  codex::ModelsOptions hidden_too{.include_hidden = true};
  json::object all = co_await codex.models(std::move(hidden_too));
  const std::size_t with_hidden = samples::array_at(all, {"data"}).size();

  codex::ModelsOptions first_page{.limit = 2};
  json::object page = co_await codex.models(std::move(first_page));
  std::size_t second = 0;
  if (std::string cursor = cursor_of(page); !cursor.empty()) {
    codex::ModelsOptions next_page{.cursor = cursor, .limit = 2};
    json::object next = co_await codex.models(std::move(next_page));
    second = samples::array_at(next, {"data"}).size();
  }
  // snippet-end: models_and_metadata_async
  check_all(visible, with_hidden, samples::array_at(page, {"data"}).size(), cursor_of(page),
            second);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "04_models_and_metadata", sync_main, async_main);
}
