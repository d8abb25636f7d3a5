# Code in the docs is quoted from compiled files, never typed by hand.
#
# Every ```cpp block of README.md and docs/*.md carries a marker naming its source region
# (`<!-- snippet: samples/readme/first_program.cpp#first_program -->`, the region being the lines
# between `// snippet-begin: first_program` and `// snippet-end: first_program`). The
# `docs_snippets` test (label "docs") fails when a block differs from its source or has none;
# `python3 tools/docs/snippets.py --update` rewrites the blocks from their sources.

if(CODEX_BUILD_TESTS)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_Interpreter_FOUND)
    add_test(NAME docs_snippets
             COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/tools/docs/snippets.py" --check
             WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  else()
    # Fail rather than pass silently: scripts/setup.sh installs python3.
    add_test(NAME docs_snippets
             COMMAND "${CMAKE_COMMAND}" -E echo "docs_snippets: python3 not found")
    set_tests_properties(docs_snippets PROPERTIES WILL_FAIL TRUE)
  endif()
  set_tests_properties(docs_snippets PROPERTIES LABELS "docs" TIMEOUT 60)
endif()
