#!/usr/bin/env bash
# Builds the SDK and the fuzz target with clang + libFuzzer + ASan in its own build tree (clang 14
# miscompiles coroutines under UBSan + coverage: "Cannot represent a difference across sections";
# UBSan runs in the g++ asan preset instead),
# with its debug info compressed like the presets' (-gz),
# then fuzzes for a bounded time (default 30 s) from the checked-in seed corpus.
set -euo pipefail
src="$1"; out="$2"; seconds="${3:-30}"
CC=clang CXX=clang++ cmake -S "$src" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCODEX_BUILD_TESTS=OFF -DCODEX_BUILD_SAMPLES=OFF -DCODEX_BUILD_BENCH=OFF -DCODEX_BUILD_FUZZ=ON \
  "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link,address" \
  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address" \
  "-DCMAKE_CXX_FLAGS_DEBUG=-g -gz" "-DCMAKE_EXE_LINKER_FLAGS_DEBUG=-gz" >/dev/null
cmake --build "$out" --target fuzz_protocol
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp "$src"/test/fuzz/corpus/* "$work/"
"$out/test/fuzz/fuzz_protocol" "$work" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
  -print_final_stats=1 2>&1 | tail -n 25
