// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file inputs.hpp
/// @brief Turn inputs: text, images, skills, mentions; `Input` accepts a string, one item or a
/// list of them, or an `ExternalMessage`.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace codex {

/// Plain text (`{"type":"text","text":...}`).
struct TextInput {
  std::string text;  ///< the text, sent as given
};
/// An image given as a base64 `data:image/...` URL (`{"type":"image","url":...}`). HTTP(S) URLs
/// are deprecated by the server: download the image and use `LocalImageInput`.
struct ImageInput {
  std::string url;  ///< the `data:image/...` URL (must not be empty)
};
/// An image file the app-server reads and sends as a data URL (`{"type":"localImage","path":...}`).
struct LocalImageInput {
  std::string path;  ///< the image file's path, as the app-server sees it (must not be empty)
};
/// A skill: the server injects the skill's `SKILL.md` body (`{"type":"skill","name","path"}`).
struct SkillInput {
  std::string name;  ///< the skill's name (must not be empty)
  std::string path;  ///< the skill's path (must not be empty)
};
/// A mention of an app or plugin (`{"type":"mention","name","path"}`).
struct MentionInput {
  std::string name;  ///< the app's or plugin's name (must not be empty)
  std::string path;  ///< the app's or plugin's path (must not be empty)
};

/// One input item.
using InputItem = std::variant<TextInput, ImageInput, LocalImageInput, SkillInput, MentionInput>;

/// A message from an outside system (a chat notification, a webhook, a monitor...) handed to the
/// model as the **output of a tool**, not as the user's words, so the model gives it tool
/// authority: data to weigh, not instructions from the user. Use it for untrusted content.
///
/// Only `turn()` and `run()` take it (as the whole input: it is not an `InputItem`, so it cannot
/// be mixed with user input). `turn/start` then sends `"input": []` and
/// `"toolOutput": {"name": tool_name, "namespace": namespace_, "output": content}`; the model
/// receives it as a `function_call_output` item. When the thread already has a turn running, the
/// server folds the message into that turn and `turn()` returns a handle to it. `steer()` rejects
/// it with `std::invalid_argument` before anything is sent.
///
///     thread.run(codex::ExternalMessage{.tool_name = "notifications",
///                                       .content = "New message in #ops: deploy is done",
///                                       .namespace_ = "slack"},
///                {.source = "slack_notification"});
struct ExternalMessage {
  /// The tool the output is attributed to (`toolOutput.name`). Must not be empty or blank
  /// (`std::invalid_argument`).
  std::string tool_name;
  /// The output (`toolOutput.output`): a text, or a list of function-call output content items
  /// such as `{"type":"input_text","text":...}` or `{"type":"input_image","image_url":...}`
  /// (`codex::types::FunctionCallOutputContentItem` gives them through `to_json`).
  std::variant<std::string, std::vector<boost::json::object>> content;
  /// The tool's namespace (`toolOutput.namespace`; left out when unset). Python's `namespace`,
  /// a C++ keyword.
  std::optional<std::string> namespace_;
};

/// What a turn (or a steer) takes: a plain string (shorthand for one `TextInput`), one item, or
/// a list of items; for `turn()`/`run()` also an `ExternalMessage`.
class Input {
 public:
  /// One `TextInput` holding `text`.
  Input(std::string text);
  /// One `TextInput` holding `text` (a null pointer gives an empty text).
  Input(const char* text);
  /// One text item.
  Input(TextInput item);
  /// One image given as a data URL.
  Input(ImageInput item);
  /// One local image file.
  Input(LocalImageInput item);
  /// One skill.
  Input(SkillInput item);
  /// One mention.
  Input(MentionInput item);
  /// A list of items, sent in order.
  Input(std::vector<InputItem> items);
  /// A brace list of items, sent in order.
  Input(std::initializer_list<InputItem> items);
  /// An external message, for `turn()`/`run()` only (see `ExternalMessage`).
  Input(ExternalMessage message);

  /// The user input items (empty for an external message).
  const std::vector<InputItem>& items() const noexcept { return items_; }

  /// The external message, or nullptr when this is user input.
  const ExternalMessage* external_message() const noexcept {
    return external_ ? &*external_ : nullptr;
  }

  /// The wire form: an array of UserInput objects. Throws `std::invalid_argument` for an empty
  /// list, an item with an empty required field, or an external message (which is not user
  /// input: `turn/start` sends it as `toolOutput`).
  boost::json::array to_wire() const;

 private:
  std::vector<InputItem> items_;
  std::optional<ExternalMessage> external_;
};

}  // namespace codex
