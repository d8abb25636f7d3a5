// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// The message of an exception_ptr, for test diagnostics and checks.
#pragma once

#include <exception>
#include <string>

namespace codex::testing {

/// `what()` of the exception in `e`; "(no exception)" for a null `e`, "(not a
/// std::exception)" for anything else.
inline std::string what_of(const std::exception_ptr& e) {
  if (!e) return "(no exception)";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "(not a std::exception)";
}

}  // namespace codex::testing
