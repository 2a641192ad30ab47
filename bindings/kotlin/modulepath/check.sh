#!/usr/bin/env bash
# The jar as a JPMS module: a Java application on the module path reads
# dev.tokenwell and gets a token from the mock provider (JNA reaches the
# generated bindings through the module's `opens`), and code that names the
# generated bindings does not compile (they are not exported).
# Usage: check.sh JAR MOCK_BINARY (from the repository root; test.sh calls it).
set -euo pipefail
jar="$1"
mock="$2"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
mock_pid=""
cleanup() { [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The module's required libraries, as Maven resolved them.
mvn -B -q -f bindings/kotlin/pom.xml dependency:build-classpath -Dmdep.includeScope=runtime \
  -Dmdep.outputFile="$work/cp" -Dstyle.color=never </dev/null >/dev/null
deps="$(tr ':' '\n' <"$work/cp" | grep -E '/(jna|kotlin-stdlib|kotlinx-coroutines-core-jvm)-[0-9][^/]*\.jar$' | paste -sd: -)"
[ "$(tr ':' '\n' <<<"$deps" | wc -l)" = 3 ] || { echo "modulepath: expected 3 libraries, got: $deps" >&2; exit 1; }
modules="$jar:$deps"

if javac --module-path "$modules" -d "$work/intruder" $(find "$here/intruder" -name '*.java') 2>"$work/intruder.err"; then
  echo "modulepath: code naming dev.tokenwell.internal.ffi compiled" >&2; exit 1
fi
grep -q 'does not export' "$work/intruder.err" \
  || { echo "modulepath: unexpected javac error:" >&2; cat "$work/intruder.err" >&2; exit 1; }

javac --module-path "$modules" -d "$work/demo" $(find "$here/consumer" -name '*.java')
"$mock" mock --port 0 >"$work/mock.out" &
mock_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/mock.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^tokenwell mock listening on //p' "$work/mock.out")"
[ -n "$url" ] || { echo "modulepath: the mock did not start" >&2; exit 1; }
secret="modulepath-secret-5Jq"
config="{\"provider\":\"deliveroo\",\"environment\":\"sandbox\",\"base_url\":\"$url/deliveroo\",\"client_id\":\"jpms\",\"client_secret\":\"$secret\"}"
out="$(java --module-path "$modules:$work/demo" -m demo/demo.Main "$config" 2>&1)" \
  || { echo "modulepath: the consumer failed: $out" >&2; exit 1; }
grep -qx 'token Bearer [0-9]*' <<<"$out" || { echo "modulepath: unexpected output: $out" >&2; exit 1; }
if grep -q "$secret" <<<"$out"; then echo "modulepath: the secret was printed" >&2; exit 1; fi
echo "modulepath: a consumer module got a token; the bindings are not exported"
