#!/usr/bin/env bash
# Installs the already-built SDK into a temporary prefix, then configures and builds a consumer
# project with find_package(codex_sdk CONFIG) and runs it.
set -euo pipefail
# $3/$4: the build's compiler and linker flags (a sanitizer build's library needs them too).
build_dir="$1"; src_dir="$2"; cxx_flags="${3:-}"; ld_flags="${4:-}"; work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$src_dir" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  "-DCMAKE_CXX_FLAGS=$cxx_flags" "-DCMAKE_EXE_LINKER_FLAGS=$ld_flags" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
