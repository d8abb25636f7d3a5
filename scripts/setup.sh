#!/usr/bin/env bash
# Installs what codex-cpp needs on Debian bookworm: the build tools and libraries from Debian, and
# the Codex CLI pinned at @openai/codex@0.169.0 from the npm registry into ./.codex-cli (git-ignored).
# Idempotent: does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

CODEX_VERSION=0.169.0
CLI_DIR="${CODEX_CPP_CLI_DIR:-$PWD/.codex-cli}"
CODEX_BIN="$CLI_DIR/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"

packages=(g++ cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev
          libboost-filesystem1.81-dev catch2 libspdlog-dev libssl-dev python3 clang libclang-rt-14-dev
          doxygen)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

have_version=""
[ -x "$CODEX_BIN" ] && have_version="$("$CODEX_BIN" --version 2>/dev/null | awk '{print $2}')"
if [ "$have_version" != "$CODEX_VERSION" ]; then
  echo "setup: installing @openai/codex@$CODEX_VERSION into $CLI_DIR"
  mkdir -p "$CLI_DIR"
  npm install --prefix "$CLI_DIR" --no-audit --no-fund --no-save --loglevel=error \
    "@openai/codex@$CODEX_VERSION" >/dev/null
  [ -x "$CODEX_BIN" ] || { echo "setup: $CODEX_BIN missing after npm install" >&2; exit 1; }
fi
echo "setup: ok ($("$CODEX_BIN" --version))"
