// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#pragma once

/// @file codex.hpp
/// @brief Umbrella header of codex-cpp, the C++20 SDK for the Codex agent.
///
/// @code
/// codex::Codex codex;                       // spawns `codex app-server`, initializes
/// auto thread = codex.thread_start();
/// auto result = thread.run("Say hello");
/// std::cout << result.final_response.value_or("");
/// @endcode

#include <codex/approval_policies.hpp>
#include <codex/approvals.hpp>
#include <codex/async_codex.hpp>
#include <codex/codex_sync.hpp>
#include <codex/config.hpp>
#include <codex/errors.hpp>
#include <codex/inputs.hpp>
#include <codex/method_name.hpp>
#include <codex/options.hpp>
#include <codex/policy.hpp>
#include <codex/results.hpp>
#include <codex/retry.hpp>
#include <codex/transport.hpp>
#include <codex/turn.hpp>
#include <codex/typed.hpp>

/// @namespace codex
/// @brief codex-cpp: the clients (`Codex`, `AsyncCodex`), their options, inputs, events and
/// results, approval handling, errors and retry. The typed protocol models are in
/// `codex::types`; `detail` namespaces are private.
