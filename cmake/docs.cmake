# The API reference: Doxygen over the public headers (include/codex/, generated types included).
#
#   cmake --build --preset dev --target docs   ->  build/dev/docs/html/index.html
#
# docs/Doxyfile.in fails on any warning (an undocumented public name, a broken @param, ...). The
# `docs_reference` test (label "docs") builds the reference into its own folder and fails on any
# warning, so a public name added without its comment fails the suite. scripts/setup.sh installs
# doxygen; without it configure says so, and the test fails saying so instead of passing.

option(CODEX_BUILD_DOCS "Add the `docs` target (Doxygen API reference)" ${PROJECT_IS_TOP_LEVEL})

if(CODEX_BUILD_DOCS)
  find_package(Doxygen)

  set(_codex_docs_template "${PROJECT_SOURCE_DIR}/docs/Doxyfile.in")
  if(DOXYGEN_FOUND)
    # The `docs` target's configuration and output.
    set(CODEX_DOCS_OUTPUT_DIR "${PROJECT_BINARY_DIR}/docs")
    configure_file("${_codex_docs_template}" "${PROJECT_BINARY_DIR}/docs/Doxyfile" @ONLY)
    add_custom_target(docs
      COMMAND Doxygen::doxygen "${PROJECT_BINARY_DIR}/docs/Doxyfile"
      WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
      COMMENT "API reference (Doxygen ${DOXYGEN_VERSION}) -> ${PROJECT_BINARY_DIR}/docs/html/index.html"
      SOURCES "${_codex_docs_template}" "${PROJECT_SOURCE_DIR}/docs/reference-main.md"
      VERBATIM)

    # The test's own copy, so that it never races the `docs` target over one output folder.
    set(CODEX_DOCS_OUTPUT_DIR "${PROJECT_BINARY_DIR}/docs-test")
    configure_file("${_codex_docs_template}" "${PROJECT_BINARY_DIR}/docs-test/Doxyfile" @ONLY)
    unset(CODEX_DOCS_OUTPUT_DIR)
  else()
    message(WARNING
      "Doxygen not found: no `docs` target (API reference), and the `docs_reference` test will "
      "fail. Install it with scripts/setup.sh (Debian package `doxygen`), or configure with "
      "-DCODEX_BUILD_DOCS=OFF.")
  endif()

  if(CODEX_BUILD_TESTS)
    if(DOXYGEN_FOUND)
      # Doxygen exits non-zero on any warning (WARN_AS_ERROR = FAIL_ON_WARNINGS); the regular
      # expression also fails the test on a warning line should an exit status ever miss one.
      add_test(NAME docs_reference
               COMMAND Doxygen::doxygen "${PROJECT_BINARY_DIR}/docs-test/Doxyfile"
               WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
      set_tests_properties(docs_reference PROPERTIES
        LABELS "docs" TIMEOUT 600
        FAIL_REGULAR_EXPRESSION "[Ww]arning:|[Ee]rror:")
    else()
      add_test(NAME docs_reference
               COMMAND "${CMAKE_COMMAND}" -E echo
                       "docs_reference: doxygen was not found at configure time; run scripts/setup.sh and reconfigure")
      set_tests_properties(docs_reference PROPERTIES
        LABELS "docs" FAIL_REGULAR_EXPRESSION "doxygen was not found")
    endif()
  endif()
endif()
