#!/usr/bin/env bash
# The Kotlin cached-call benchmark: ns per cached authorizationHeader() (memoised
# and the raw JNA call) beside a ConcurrentHashMap + System.nanoTime() floor.
# Usage (from anywhere): bash bench/kotlin/run.sh [extra mvn -D options]
# Needs the release library and the mock: bindings/kotlin/test.sh builds both.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! mvn -B -f "$root/bindings/kotlin/pom.xml" -Pbench -Dtokenwell.skipCargo=true "$@" test >"$log" 2>&1; then
  cat "$log"
  echo "bench: FAILED" >&2
  exit 1
fi
grep -E '^bench:' "$log"
