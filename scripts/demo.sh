#!/usr/bin/env bash
# The main job: builds and runs the offline demo. The real `codex app-server` (pinned 0.169.0)
# runs a turn against a scripted model server on 127.0.0.1 and the answer streams to the terminal.
# Pass --online to use your real Codex login / OPENAI_API_KEY instead; --async for the co_await twin.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target quickstart quickstart_async
target=quickstart
args=()
for a in "$@"; do
  if [ "$a" = "--async" ]; then target=quickstart_async; else args+=("$a"); fi
done
exec "build/release/samples/$target" "${args[@]+"${args[@]}"}"
