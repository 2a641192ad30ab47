#!/usr/bin/env bash
# Builds and tests the Kotlin/JVM package, then runs its benchmark.
# Called from the repository root (make test) as: bash bindings/kotlin/test.sh
# Idempotent and non-interactive; exits non-zero on any failure.
# TOKENWELL_SKIP_BENCH=1 skips the benchmark (the tests and the jar checks still run).
# The cold-start figures are bench/cold/jvm.sh's, outside make test.
set -euo pipefail
export CI=true
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
started=$(date +%s)

# --- tools: JDK 17 and Maven (Debian packages) if missing -------------------
if ! command -v java >/dev/null || ! command -v javac >/dev/null || ! command -v mvn >/dev/null; then
  echo "== installing JDK 17 and Maven"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq openjdk-17-jdk-headless maven </dev/null >/dev/null
fi
command -v cargo >/dev/null || { echo "cargo not found: install the Rust toolchain (rustup)" >&2; exit 1; }

# --- native library, bindgen and the mock provider ---------------------------
# The wheel's cargo call to the letter (bindings/python/pyproject.toml): after
# the Python package's tests it is already built. The pom strips the jar's copy.
echo "== cargo rustc --release --features ffi --lib --crate-type cdylib (native core)"
cargo rustc --release --features ffi --lib --crate-type cdylib --config 'profile.release.strip="debuginfo"'
# Debug build: the mock binary, uniffi-bindgen, and an unstripped cdylib whose
# UniFFI metadata the bindings are generated from (release builds are stripped).
echo "== cargo build --features cli,bindgen (mock provider, uniffi-bindgen, metadata)"
cargo build --features cli,bindgen

# --- generate, compile, test, package -----------------------------------------
# The pom generates the Kotlin bindings (uniffi-bindgen, package dev.tokenwell.internal.ffi)
# and puts the native library in the jar under linux-x86-64/. The reactor builds
# that jar, then the Spring Boot 3 and 4 starters against it (bindings/kotlin/spring).
echo "== mvn verify (core jar, Spring Boot starters)"
mvn -B -f bindings/kotlin/reactor/pom.xml \
  -Dtokenwell.mock="$root/target/debug/tokenwell" \
  verify </dev/null

version=$(sed -n "s/^version = \"\(.*\)\"/\1/p" Cargo.toml | head -1)
jar="bindings/kotlin/target/tokenwell-$version.jar"
[ -f "$jar" ] || { echo "jar not built: $jar" >&2; exit 1; }
listing="$(jar tf "$jar")"
for entry in linux-x86-64/libtokenwell.so dev/tokenwell/internal/ffi/CoreClient.class dev/tokenwell/TokenClient.class dev/tokenwell/TokenwellInterceptor.class \
    dev/tokenwell/TokenwellHttpClient.class dev/tokenwell/ktor/TokenwellAuthKt.class; do
  grep -qx "$entry" <<<"$listing" || { echo "jar lacks $entry" >&2; exit 1; }
done
# On the module path: a consumer module gets a token; the bindings are not exported.
bash bindings/kotlin/modulepath/check.sh "$jar" "$root/target/debug/tokenwell"
for boot in 3 4; do
  starter="bindings/kotlin/spring/boot$boot/target/tokenwell-spring-boot-starter-$boot-$version.jar"
  [ -f "$starter" ] || { echo "starter not built: $starter" >&2; exit 1; }
  listing="$(jar tf "$starter")"
  for entry in META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports \
      META-INF/spring-configuration-metadata.json META-INF/tokenwell/config.schema.json \
      dev/tokenwell/spring/TokenwellAutoConfiguration.class dev/tokenwell/spring/TokenwellHealthAutoConfiguration.class; do
    grep -qx "$entry" <<<"$listing" || { echo "$starter lacks $entry" >&2; exit 1; }
  done
done

built=$(( $(date +%s) - started ))

# --- benchmark (figures printed, not asserted) ------------------------------
if [ "${TOKENWELL_SKIP_BENCH:-0}" != 1 ]; then
  echo "== benchmark (bench/kotlin)"
  bash bench/kotlin/run.sh
fi
echo "bench: jar size $(stat -c %s "$jar") bytes ($jar)"
echo "bench: build + tests took ${built} s"
