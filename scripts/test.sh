#!/usr/bin/env bash
# The full test suite: unit, integration (fake app-server) and end-to-end (real codex app-server
# against the scripted model server), plus every sample's smoke test, with the `dev` preset. Set
# CODEX_TEST_PRESET=asan (or tsan) to run the whole suite under that sanitizer instead.
#
# Then the sanitizer passes: every test layer but the samples, bench, install, fuzz and docs checks
# (unit, integration, fake app-server, model server, typed models, approvals, e2e, reliability,
# remote) built and run again under ASan+UBSan and under TSan: the `asan-ci` and `tsan-ci` build
# and test presets. A pass whose sanitizer already ran the whole suite (CODEX_TEST_PRESET) is
# skipped. CODEX_TEST_SANITIZERS=0 skips both passes; CODEX_TEST_SANITIZERS=only runs just them.
#
# Every pass runs even when an earlier one failed; the exit status is non-zero if any failed.
#
# Disk: the three build trees take about 5 GiB together from empty (measured: dev 1.8, asan 2.5,
# tsan 0.7), with debug info compressed and only line tables in the sanitizer trees (see
# CMakePresets.json). The free space is printed first, with a warning when it looks too little,
# and each pass prints the size of its tree.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
preset="${CODEX_TEST_PRESET:-dev}"
sanitizers="${CODEX_TEST_SANITIZERS:-1}"
status=0
summary=()

# free_gib DIR: the space left for an unprivileged writer on DIR's file system, in whole GiB.
free_gib() { df -Pk "$1" | awk 'NR == 2 { print int($4 / 1048576) }'; }
mkdir -p build
free_now=$(free_gib build)
echo "=== disk: $free_now GiB free for build/"
if ((free_now < 6)); then
  echo "warning: a full run from empty build trees needs about 5 GiB; a full disk fails the build" \
    "with 'No space left on device'" >&2
fi

# pass NAME CONFIGURE_PRESET BUILD_PRESET TEST_PRESET: configure, build, test, and time it.
pass() {
  local name=$1 t0 rc=0
  t0=$(date +%s)
  echo "=== $name: cmake --preset $2, cmake --build --preset $3, ctest --preset $4"
  {
    cmake --preset "$2" >/dev/null &&
      cmake --build --preset "$3" &&
      echo "$name build: $(($(date +%s) - t0)) s" &&
      ctest --preset "$4"
  } || rc=$?
  local size
  size=$(du -sh "build/$2" 2>/dev/null | cut -f1) || size="?"
  summary+=("$name: $( ((rc)) && echo FAILED || echo passed) in $(($(date +%s) - t0)) s, build/$2 $size, $(free_gib build) GiB left")
  if ((rc)); then status=$rc; fi
}

if [[ "$sanitizers" != only ]]; then
  pass "$preset (whole suite)" "$preset" "$preset" "$preset"
fi
if [[ "$sanitizers" != 0 ]]; then
  for san in asan tsan; do
    [[ "$san" == "$preset" && "$sanitizers" != only ]] && continue
    pass "$san pass" "$san" "$san-ci" "$san-ci"
  done
fi

printf '%s\n' "${summary[@]}"
exit "$status"
