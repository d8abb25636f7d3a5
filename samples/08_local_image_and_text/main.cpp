// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// 08 local_image_and_text — twin of the Python SDK's examples/08_local_image_and_text.
//
// One turn with a text and an image FILE (`LocalImageInput`): the app-server reads the file and
// sends it to the model as a data URL. The sample writes a generated PNG into the workspace
// first (offline: the scripted workspace; online: a temporary directory).
//
//   08_local_image_and_text [--async] [--online]

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <filesystem>
#include <iostream>

namespace {

namespace samples = codex::samples;
namespace fs = std::filesystem;
using codex::testing::Response;

void script(samples::SampleEnv& env) {
  env.script(Response::message("A small picture of a colour gradient."));
}

/// Writes the sample image and returns its absolute path.
std::string write_image(samples::SampleEnv& env) {
  const fs::path dir =
      env.workspace().empty() ? fs::temp_directory_path() : fs::path(env.workspace());
  const fs::path path = dir / "codex_cpp_sample_image.png";
  samples::write_file(path, samples::make_png(8, 8));
  std::cout << "wrote " << path.string() << " (" << fs::file_size(path) << " bytes)\n";
  return path.string();
}

void check_all(samples::SampleEnv& env, const codex::TurnResult& r) {
  std::cout << "assistant> " << r.final_response.value_or("<none>") << "\n";
  samples::check(r.status == codex::TurnStatus::completed, "the turn completed");
  if (auto* model = env.model()) {
    const auto urls = samples::last_model_request(*model).image_urls();
    std::cout << "the model received " << urls.size() << " image(s)";
    if (!urls.empty()) std::cout << ": " << urls.front().substr(0, 30) << "...";
    std::cout << "\n";
    samples::check(urls.size() == 1 && urls.front().rfind("data:image/png;base64,", 0) == 0,
                   "the server sent the file to the model as a PNG data URL");
  }
}

int sync_main(samples::SampleEnv& env) {
  script(env);
  const std::string path = write_image(env);
  // snippet-begin: local_image_and_text_sync
  codex::Codex codex(env.config());
  codex::Thread thread = codex.thread_start();
  codex::TurnResult result = thread.run({
      codex::TextInput{"Describe this image in one sentence."},
      codex::LocalImageInput{path},  // read by the app-server, not by the SDK
  });
  // snippet-end: local_image_and_text_sync
  check_all(env, result);
  return 0;
}

boost::asio::awaitable<int> async_main(samples::SampleEnv& env) {
  script(env);
  const std::string path = write_image(env);
  auto executor = co_await boost::asio::this_coro::executor;
  // snippet-begin: local_image_and_text_async
  codex::AsyncCodex codex(executor, env.config());
  codex::AsyncThread thread = co_await codex.thread_start();
  codex::Input input{
      codex::TextInput{"Describe this image in one sentence."},
      codex::LocalImageInput{path},
  };
  codex::TurnResult result = co_await thread.run(std::move(input));
  // snippet-end: local_image_and_text_async
  check_all(env, result);
  co_await codex.close();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return samples::run_sample(argc, argv, "08_local_image_and_text", sync_main, async_main);
}
