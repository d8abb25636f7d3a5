#!/usr/bin/env bash
# The full test suite: unit, integration (fake app-server) and end-to-end (real codex app-server
# against the scripted model server), plus every sample's smoke test. Set CODEX_TEST_PRESET=asan
# (or tsan) to run it under the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
preset="${CODEX_TEST_PRESET:-dev}"
start=$(date +%s)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
echo "build: $(( $(date +%s) - start )) s"
ctest --preset "$preset"
