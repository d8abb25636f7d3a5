# The numbered samples (twins of the Python SDK's examples, sync + `--async` in one binary each)
# and the C++-specific samples. Included by samples/CMakeLists.txt.
#
# Every sample prints `SAMPLE OK` as its last line on success (`SAMPLE FAILED: ...` otherwise).
# CTest ignores the exit code once PASS_REGULAR_EXPRESSION is set, so every smoke test requires
# that line after the sample's own expected output, and fails on `SAMPLE FAILED`.

set(CODEX_SAMPLE_OK "SAMPLE OK")
set(CODEX_SAMPLE_FAIL "SAMPLE FAILED")

# codex_sample_properties(<test> EXPECT <regex> [LOCK <resource>])
function(codex_sample_properties test)
  cmake_parse_arguments(PARSE_ARGV 1 P "" "EXPECT;LOCK" "")
  set_tests_properties(${test} PROPERTIES
    TIMEOUT 120
    LABELS "sample"
    PASS_REGULAR_EXPRESSION "${P_EXPECT}.*${CODEX_SAMPLE_OK}"
    FAIL_REGULAR_EXPRESSION "${CODEX_SAMPLE_FAIL}")
  if(P_LOCK)
    set_tests_properties(${test} PROPERTIES RESOURCE_LOCK "${P_LOCK}")
  endif()
endfunction()

# codex_sample_target(<name> <source>): the executable alone, built like codex_sample's.
function(codex_sample_target name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE codex::sdk codex_test_support codex_warnings)
endfunction()

# codex_sample_twin(<name> <source> EXPECT <regex> [STDIN <printf-format>] [LOCK <resource>])
#
# One binary holding both forms of an example, and two smoke tests: `sample_<name>` (the blocking
# API) and `sample_<name>_async` (`--async`, the coroutine API). Both must print `<regex>`, after
# the banner naming their form. With STDIN, each test is run as `printf '<text>' | <binary>`.
function(codex_sample_twin name source)
  cmake_parse_arguments(PARSE_ARGV 2 T "" "STDIN;LOCK;EXPECT" "")
  # The banner "== name [sync, ..." is matched with "." for "[": an unbalanced "[" in an argument
  # stops CMake from splitting the list there.
  set(sync_expect "== ${name} .sync, .*${T_EXPECT}")
  set(async_expect "== ${name} .async, .*${T_EXPECT}")
  if(NOT DEFINED T_STDIN)
    codex_sample(${name} ${source} EXPECT "${sync_expect}")
  else()
    codex_sample_target(${name} ${source})
  endif()
  if(NOT CODEX_BUILD_TESTS)
    return()
  endif()
  if(DEFINED T_STDIN)
    add_test(NAME sample_${name}
             COMMAND sh -c "printf '${T_STDIN}' | \"$0\"" $<TARGET_FILE:${name}>)
    add_test(NAME sample_${name}_async
             COMMAND sh -c "printf '${T_STDIN}' | \"$0\" --async" $<TARGET_FILE:${name}>)
  else()
    add_test(NAME sample_${name}_async COMMAND ${name} --async)
  endif()
  codex_sample_properties(sample_${name} EXPECT "${sync_expect}" LOCK "${T_LOCK}")
  codex_sample_properties(sample_${name}_async EXPECT "${async_expect}" LOCK "${T_LOCK}")
endfunction()

# codex_sample_single(<name> <source> EXPECT <regex> [ARGS <arg>...] [STDIN <printf-format>])
#
# A one-form (C++-specific) sample and its smoke test `sample_<name>`, run with ARGS.
function(codex_sample_single name source)
  cmake_parse_arguments(PARSE_ARGV 2 S "" "STDIN;EXPECT" "ARGS")
  codex_sample_target(${name} ${source})
  if(NOT CODEX_BUILD_TESTS)
    return()
  endif()
  if(DEFINED S_STDIN)
    list(JOIN S_ARGS " " args)
    add_test(NAME sample_${name}
             COMMAND sh -c "printf '${S_STDIN}' | \"$0\" ${args}" $<TARGET_FILE:${name}>)
  else()
    add_test(NAME sample_${name} COMMAND ${name} ${S_ARGS})
  endif()
  codex_sample_properties(sample_${name} EXPECT "${S_EXPECT}")
endfunction()

# ---------------------------------------------------------------- the Python SDK's examples

codex_sample_twin(01_quickstart_constructor 01_quickstart_constructor/main.cpp
  EXPECT "server: +[a-z].*version: +[0-9]+\\.[0-9]+.*final_response: +Hello! I am Codex")
codex_sample_twin(02_turn_run 02_turn_run/main.cpp
  EXPECT "id: +[0-9a-f-]+.*status: +completed.*final_response: +\"Structured plans.*usage.last: +total")
codex_sample_twin(03_turn_stream_events 03_turn_stream_events/main.cpp
  EXPECT "turn/started.*item/agentMessage/delta +\"One.*turn/completed +status=completed.*5 x item/agentMessage/delta")
codex_sample_twin(04_models_and_metadata 04_models_and_metadata/main.cpp
  EXPECT "server: .*models \\([1-9][0-9]*\\):.*supported:.*visible: [1-9]")
codex_sample_twin(05_existing_thread 05_existing_thread/main.cpp
  EXPECT "created .*resumed .*: 1 earlier turn.*second: Saturn's rings")
codex_sample_twin(06_thread_lifecycle_and_controls 06_thread_lifecycle_and_controls/main.cpp
  EXPECT "Lifecycle OK: .*read.turns: 2.*list.archived: [1-9].*forked: .*compact: done")
codex_sample_twin(07_image_and_text 07_image_and_text/main.cpp
  EXPECT "image: [0-9]+ bytes of data URL.*the model received 1 image")
codex_sample_twin(08_local_image_and_text 08_local_image_and_text/main.cpp
  EXPECT "wrote .*codex_cpp_sample_image.png.*the model received 1 image")
codex_sample_twin(09_async_parity 09_async_parity/main.cpp
  EXPECT "Server: .*Thread: .*Turn: .*Text: Hello from the parity sample")
codex_sample_twin(10_error_handling_and_retry 10_error_handling_and_retry/main.cpp
  EXPECT "kind: internalServerError.*attempt 2.*completed: - Retry only.*InvalidRequestError -32600.*Turn failed: ")
codex_sample_twin(11_cli_mini_app 11_cli_mini_app/main.cpp
  STDIN "hi\\nquit\\n"
  EXPECT "you> hi.*assistant> You said: hi.*bye \\(1 turn")
codex_sample_twin(12_turn_params_kitchen_sink 12_turn_params_kitchen_sink/main.cpp
  EXPECT "gpt-5.4 in the model catalog: no.*Status: completed.*plan.summary: Ship dark.*request.model: gpt-5.4")
codex_sample_twin(13_model_select_and_turn_params 13_model_select_and_turn_params/main.cpp
  EXPECT "selected.model: .*selected.effort: .*agent.message: Reliable releases.*usage.params: total")
codex_sample_twin(14_turn_controls 14_turn_controls/main.cpp
  EXPECT "steer.final.status: completed.*interrupt.final.status: interrupted")
codex_sample_twin(15_login_and_account 15_login_and_account/main.cpp
  LOCK codex_login_port_1455
  EXPECT "account/login/completed: success true.*login.cancel.status: canceled.*login.completed.success: false")
# 16_external_message replaced the Python SDK's 16_goal_turns (goal turns are not implemented).
codex_sample_twin(16_external_message 16_external_message/main.cpp
  EXPECT "task.status: completed.*notification.status: completed.*model.received: function_call_output notifications/slack.*is not in any user or developer message")

# ---------------------------------------------------------------- C++-specific samples

codex_sample_single(embed_asio_server embed_asio_server/main.cpp
  ARGS --port 0 --requests 2 --self-test
  EXPECT "listening on http://127.0.0.1:[0-9]+.*answer 1: 200 Paris\\..*answer 2: 200 4\\..*served 2 request")
codex_sample_single(progress_display progress_display/main.cpp
  EXPECT "reasoning: Plan:.*tool> \\$ .*echo alpha beta gamma.*tool< exit 0: alpha beta gamma.*completed. [0-9]+ deltas, 160 chars")
codex_sample_single(concurrent_turns concurrent_turns/main.cpp
  ARGS --turns 4
  EXPECT "all 4 turns are streaming at once.*4 turns completed")
codex_sample_twin(interactive_approver interactive_approver/main.cpp
  STDIN "y\\n"
  EXPECT "command: .*touch approved.txt.*allow\\? .*approved.*approved.txt exists")

# An allow-list approval policy (codex::allow_commands): a listed command runs, an unlisted one is
# declined.
codex_sample_single(allow_list_policy allow_list_policy/main.cpp
  EXPECT "touch allowed.txt' -> completed.*rm -f allowed.txt' -> declined.*allowed.txt exists: yes")

# A fleet: K app-servers on ws://127.0.0.1:<port 0> with capability tokens, one AsyncCodex each on
# one io_context, M threads placed least-loaded. The second test has one server that cannot start
# and one killed mid-turn, whose turns are rerun on new threads elsewhere. The third puts every
# server in its own network namespace (root and `ip netns`; reported as skipped elsewhere). They
# hold one lock: each starts several app-servers on a small machine.
codex_sample_target(fleet fleet/main.cpp)
if(CODEX_BUILD_TESTS)
  add_test(NAME sample_fleet COMMAND fleet)
  codex_sample_properties(sample_fleet LOCK codex_fleet
    EXPECT "server 2: ws://127.0.0.1:[0-9]+ ready.*all 12 turns are streaming at once on 3 servers.*fleet: 12 of 12 turns completed \\(0 rerun\\) on 3 of 3 servers.*turns/s")
  add_test(NAME sample_fleet_failover COMMAND fleet --servers 4 --fail-one --kill-one)
  codex_sample_properties(sample_fleet_failover LOCK codex_fleet
    EXPECT "server 0: FAILED to start: exited with status 1: Error: failed to read websocket auth secret.*--kill-one: SIGKILL server 3 .pid [0-9]+. with 4 turns in flight.*failed mid-turn: .*fleet: 12 of 12 turns completed \\(4 rerun\\) on 2 of 4 servers")
  add_test(NAME sample_fleet_netns COMMAND fleet --netns)
  codex_sample_properties(sample_fleet_netns LOCK codex_fleet
    EXPECT "netns: 3 network namespaces.*server 2: ws://10\\.[0-9.]+:[0-9]+ ready.*fleet: 12 of 12 turns completed \\(0 rerun\\) on 3 of 3 servers")
  set_tests_properties(sample_fleet_netns PROPERTIES SKIP_REGULAR_EXPRESSION "netns: unavailable here")
endif()

# Getting a turn back under control: the turn inactivity watchdog (TurnStalledError) on a model
# gone silent, a turn() cancelled while turn/start is in flight recovered with last_turn(), and
# reconnect() + thread_resume().
codex_sample_single(resilient_turns resilient_turns/main.cpp
  EXPECT "watchdog: turn [0-9a-f-]+ silent for [0-9]+ ms, server status: inProgress.*turn 1 ended: interrupted.*turn\\(\\): cancelled while turn/start was in flight.*last_turn\\(\\): [0-9a-f-]+.*turn 2 ended: interrupted.*reconnected: .*old thread handle: TransportClosedError.*resumed thread [0-9a-f-]+: completed: The build log summary")
