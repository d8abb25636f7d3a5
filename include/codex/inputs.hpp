// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file inputs.hpp
/// @brief Turn inputs: text, images, skills, mentions; `Input` accepts a string, one item or a
/// list of them.

#include <boost/json/array.hpp>

#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

namespace codex {

/// Plain text (`{"type":"text","text":...}`).
struct TextInput {
  std::string text;
};
/// An image given as a base64 `data:image/...` URL (`{"type":"image","url":...}`). HTTP(S) URLs
/// are deprecated by the server: download the image and use `LocalImageInput`.
struct ImageInput {
  std::string url;
};
/// An image file the app-server reads and sends as a data URL (`{"type":"localImage","path":...}`).
struct LocalImageInput {
  std::string path;
};
/// A skill: the server injects the skill's `SKILL.md` body (`{"type":"skill","name","path"}`).
struct SkillInput {
  std::string name;
  std::string path;
};
/// A mention of an app or plugin (`{"type":"mention","name","path"}`).
struct MentionInput {
  std::string name;
  std::string path;
};

/// One input item.
using InputItem = std::variant<TextInput, ImageInput, LocalImageInput, SkillInput, MentionInput>;

/// What a turn (or a steer) takes: a plain string (shorthand for one `TextInput`), one item, or
/// a list of items.
class Input {
 public:
  Input(std::string text);
  Input(const char* text);
  Input(TextInput item);
  Input(ImageInput item);
  Input(LocalImageInput item);
  Input(SkillInput item);
  Input(MentionInput item);
  Input(std::vector<InputItem> items);
  Input(std::initializer_list<InputItem> items);

  const std::vector<InputItem>& items() const noexcept { return items_; }

  /// The wire form: an array of UserInput objects. Throws `std::invalid_argument` for an empty
  /// list or an item with an empty required field.
  boost::json::array to_wire() const;

 private:
  std::vector<InputItem> items_;
};

}  // namespace codex
