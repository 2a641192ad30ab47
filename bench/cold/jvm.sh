#!/usr/bin/env bash
# The JVM cold path, against its peers, in one run (outside make test):
#   - start -> first token (in main, and the whole process) for tokenwell with a cold
#     and a warm native-library cache folder, Spring Security's client-credentials
#     manager and a bare java.net.http.HttpClient POST, each in fresh JVMs, interleaved;
#   - the raw uniffi call through JNA (first call, a trivial export, the core's lease);
#   - 1,000 clients: time, retained heap and RSS growth per client (Spring: 1,000
#     registrations behind its one manager).
# Medians of RUNS fresh JVMs (default 9), all against the `tokenwell mock` provider.
# Prints a markdown table: figure, tokenwell, peer, ratio.
#
# Usage: bash bench/cold/jvm.sh                 (from anywhere)
#   RUNS=15 bash bench/cold/jvm.sh              more rounds
#   BEFORE_JAR=/tmp/old/tokenwell-0.1.0.jar BEFORE_CP=dep1.jar:dep2.jar ...
#       adds a "before" column: an older jar (with its own runtime dependencies,
#       default this jar's) run in the same rounds
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java ...   another JVM
# Needs the release core and the mock (bash bindings/kotlin/test.sh builds both); builds
# the jar (mvn package, tests skipped) when it is missing or older than the sources.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
RUNS="${RUNS:-9}"
JAVA="${JAVA:-java}"
JAVAC="${JAVAC:-$(dirname "$(readlink -f "$(command -v "$JAVA")")")/javac}"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
jar="$root/bindings/kotlin/target/tokenwell-$version.jar"
mock_bin="$root/target/debug/tokenwell"

work="$(mktemp -d)"
mock_pid=""
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

[ -x "$mock_bin" ] || { echo "no mock provider at $mock_bin: cargo build --features cli" >&2; exit 1; }
# A jar older than a source it is built from would measure old code (mvn package
# builds the native core too).
if [ ! -f "$jar" ] || [ -n "$(find src bindings/kotlin/src bindings/kotlin/pom.xml Cargo.toml Cargo.lock uniffi.toml -newer "$jar" -print -quit)" ]; then
  echo "== building $jar (missing, or older than the sources)" >&2
  mvn -B -q -f bindings/kotlin/pom.xml -DskipTests package </dev/null >&2
fi

# --- class paths: tokenwell's runtime dependencies (without its optional OkHttp and
# SLF4J), and the peers' (bench/cold/jvm/pom.xml) ---------------------------------
classpath() { # pom, output file, extra args
  local pom="$1" out="$2"; shift 2
  mvn -B -q -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile="$out" -DincludeScope=runtime "$@" </dev/null >&2
}
classpath bindings/kotlin/pom.xml "$work/tw.cp" -DexcludeArtifactIds=okhttp,okio,okio-jvm,slf4j-api
classpath bench/cold/jvm/pom.xml "$work/spring.cp"
tw_deps="$(cat "$work/tw.cp")"
spring_cp="$(cat "$work/spring.cp")"
jna_jar="$(tr ':' '\n' <"$work/tw.cp" | grep '/jna-[0-9.]*\.jar$')"

echo "== compiling bench/cold/jvm/src" >&2
"$JAVAC" -nowarn -d "$work/classes" -cp "$jar:$tw_deps:$spring_cp" bench/cold/jvm/src/*.java

# --- the mock provider ------------------------------------------------------------
"$mock_bin" mock --port 0 >"$work/mock.out" 2>"$work/mock.err" &
mock_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/mock.out" 2>/dev/null && break; sleep 0.05; done
url="$(sed -n 's/^tokenwell mock listening on //p' "$work/mock.out" | head -1)"
[ -n "$url" ] || { echo "mock provider did not start" >&2; cat "$work/mock.err" >&2; exit 1; }
base="$url/deliveroo"
token_url="$base/oauth2/token"

# --- one fresh JVM -> its "key=value" figures, one line appended to $work/<side>.txt ----
# The sides: tokenwell with a cold cache folder (a new XDG_CACHE_HOME each run), with a
# warm one (one folder for every run), the BEFORE_JAR, Spring, bare HttpClient.
warm_cache="$work/cache-warm"
mkdir -p "$warm_cache"
run() { # side, main class, args…
  local side="$1" main="$2"; shift 2
  local cp cache="$warm_cache"
  case "$side" in
    *tokenwell-cold*) cache="$(mktemp -d "$work/cache-cold.XXXX")"; cp="$jar:$tw_deps" ;;
    *tokenwell*) cp="$jar:$tw_deps" ;;
    *before*) cp="$BEFORE_JAR:${BEFORE_CP:-$tw_deps}" ;;
    *spring*) cp="$spring_cp:$jna_jar" ;; # JNA only for Footprint's mallinfo2
    *) cp="" ;;
  esac
  local out
  out="$(TOKENWELL_BENCH_LAUNCH_NS=$(date +%s%N) XDG_CACHE_HOME="$cache" \
    "$JAVA" -cp "$work/classes${cp:+:$cp}" "$main" "$@")" || { echo "$side: $main failed" >&2; exit 1; }
  [ "$record" = 1 ] || return 0
  echo $out >>"$work/$side.txt"
}

sides_first=(tokenwell-cold tokenwell-warm spring httpclient)
[ -n "${BEFORE_JAR:-}" ] && sides_first+=(before)
main_of() { case "$1" in tokenwell*|before) echo ColdTokenwell ;; spring) echo ColdSpring ;; httpclient) echo ColdHttpClient ;; esac; }
args_of() { case "$1" in tokenwell*|before) echo "$base" ;; *) echo "$token_url" ;; esac; }

# One untimed start per side first (page cache, the warm cache folder populated).
record=0
for side in "${sides_first[@]}"; do run "$side" "$(main_of "$side")" "$(args_of "$side")" bench-id bench-secret; done
record=1

echo "== start -> first token: $RUNS rounds of ${#sides_first[@]} fresh JVMs, order rotated each round" >&2
n=${#sides_first[@]}
for r in $(seq 0 $((RUNS - 1))); do
  for k in $(seq 0 $((n - 1))); do
    side="${sides_first[$(( (k + r) % n ))]}"
    run "$side" "$(main_of "$side")" "$(args_of "$side")" "id-$r" "secret-$r"
  done
done

echo "== raw call and 1,000 clients: $(( (RUNS + 1) / 2 )) fresh JVMs per side, interleaved" >&2
for r in $(seq 1 $(( (RUNS + 1) / 2 ))); do
  run raw-tokenwell ColdRawCall "$base" raw-id raw-secret
  [ -n "${BEFORE_JAR:-}" ] && run raw-before ColdRawCall "$base" raw-id raw-secret
  run clients-tokenwell ColdClients "$base"
  [ -n "${BEFORE_JAR:-}" ] && run clients-before ColdClients "$base"
  run clients-spring ColdSpringClients "$token_url"
done

# --- the table ----------------------------------------------------------------------
median() { # side, key -> median of key=value over the side's runs
  grep -o "\b$2=[^ ]*" "$work/$1.txt" | cut -d= -f2 | awk '{ printf "%.6f\n", $1 }' | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f ms", a - b }'; }
before_col() { if [ -n "${BEFORE_JAR:-}" ]; then printf ' %s |' "$1"; fi; }

echo
echo "JVM cold path ($("$JAVA" -version 2>&1 | head -1); $(nproc) cores; medians of $RUNS fresh JVMs, sides interleaved; mock provider on loopback)"
echo
if [ -n "${BEFORE_JAR:-}" ]; then
  echo "| figure | tokenwell before | tokenwell | peer | peer figure | ratio tokenwell/peer | goal |"
  echo "|---|---|---|---|---|---|---|"
else
  echo "| figure | tokenwell | peer | peer figure | ratio tokenwell/peer | goal |"
  echo "|---|---|---|---|---|---|"
fi
row() { # figure, before, tokenwell, peer name, peer value, ratio text, goal
  printf '| %s |' "$1"; before_col "$2"; printf ' %s | %s | %s | %s | %s |\n' "$3" "$4" "$5" "$6" "$7"
}
for key in first_token_ms launch_to_token_ms; do
  what="start -> first token, from main (ms)"
  [ "$key" = launch_to_token_ms ] && what="launch -> first token, JVM boot included (ms)"
  cold=$(median tokenwell-cold $key); warm=$(median tokenwell-warm $key)
  spring=$(median spring $key); http=$(median httpclient $key)
  before=""; [ -n "${BEFORE_JAR:-}" ] && before=$(fmt "$(median before $key)")
  row "$what, cold cache folder" "$before" "$(fmt "$cold")" "Spring Security manager" "$(fmt "$spring")" "$(ratio "$cold" "$spring")" "<= 0.5x"
  row "$what, warm cache folder" "$before" "$(fmt "$warm")" "Spring Security manager" "$(fmt "$spring")" "$(ratio "$warm" "$spring")" "<= 0.5x"
  row "$what, warm cache folder" "$before" "$(fmt "$warm")" "bare HttpClient POST" "$(fmt "$http")" "$(diff_ms "$warm" "$http")" "<= +60 ms"
  row "$what, cold cache folder" "$before" "$(fmt "$cold")" "bare HttpClient POST" "$(fmt "$http")" "$(diff_ms "$cold" "$http")" "<= +60 ms"
done
b() { [ -n "${BEFORE_JAR:-}" ] && fmt "$(median "$1" "$2")" "${3:-1}" || true; }
row "raw call: first native call, core load included (ms)" "$(b raw-before first_call_ms)" "$(fmt "$(median raw-tokenwell first_call_ms)")" "-" "-" "-" "report"
row "raw call: trivial export ManualClock.nowMs() (ns/call, warm)" "$(b raw-before trivial_ns 0)" "$(fmt "$(median raw-tokenwell trivial_ns)" 0)" "-" "-" "-" "report"
row "raw call: core lease CoreClient.leaseBlocking() (ns/call, warm)" "$(b raw-before lease_ns 0)" "$(fmt "$(median raw-tokenwell lease_ns)" 0)" "-" "-" "-" "report"
for key in us_per_client heap_bytes_per_client native_bytes_per_client rss_bytes_per_client; do
  case $key in
    us_per_client) what="1,000 clients: time per client (us)"; goal="<= 100 us"; d=1 ;;
    heap_bytes_per_client) what="1,000 clients: retained Java heap per client (bytes)"; goal="heap + native <= 10240"; d=0 ;;
    native_bytes_per_client) what="1,000 clients: native heap (malloc) per client (bytes)"; goal="heap + native <= 10240"; d=0 ;;
    rss_bytes_per_client) what="1,000 clients: process RSS growth per client (bytes; noisy)"; goal="report"; d=0 ;;
  esac
  tw=$(median clients-tokenwell $key); sp=$(median clients-spring $key)
  row "$what" "$(b clients-before $key $d)" "$(fmt "$tw" $d)" "Spring: registration behind one manager" "$(fmt "$sp" $d)" "$(ratio "$tw" "$sp")" "$goal"
done
