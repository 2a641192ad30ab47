#!/usr/bin/env bash
# The core's Rust tests built for aarch64-unknown-linux-gnu and run here under
# qemu-user (`make test-aarch64`, part of `make test`), so the cross build cannot
# rot unseen. Among them: tests/client.rs fetches tokens from the in-process mock
# through the real transport (reqwest, rustls, aws-lc-rs), and tests/vectors.rs
# runs every conformance vector against it.
# Installs what it lacks (idempotent): the rustup target, and Debian's qemu-user,
# libc6-arm64-cross (the sysroot qemu runs in) and gcc-aarch64-linux-gnu (linker).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'aarch64: %s\n' "$*"; }
started=$(date +%s)

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
    || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  say "installing qemu-user, libc6-arm64-cross, gcc-aarch64-linux-gnu"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq </dev/null
  $SUDO apt-get install -y -qq qemu-user libc6-arm64-cross gcc-aarch64-linux-gnu </dev/null >/dev/null
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
# aws-lc-sys and ring's C code.
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

# The library's unit tests, the cache through the real transport against the mock
# (client) and every conformance vector (vectors). The other test files add build
# and qemu time, not aarch64 coverage: they run natively in test-rust.
tests=(--lib --test client --test vectors)
say "cargo test --target aarch64-unknown-linux-gnu --features mock ${tests[*]}"
cargo test --quiet --target aarch64-unknown-linux-gnu --features mock "${tests[@]}" 2>&1 | tee target/aarch64-test.log
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { say "FAILED (cargo test exited $status)"; exit 1; }
# The binaries really are aarch64 (qemu ran them, not the host).
bin=$(ls -t target/aarch64-unknown-linux-gnu/debug/deps/client-* | grep -v '\.d$' | head -1)
file -L "$bin" | grep -q 'ARM aarch64' || { say "FAILED: $bin is not an aarch64 binary"; exit 1; }
passed=$(grep -Eo '[0-9]+ passed' target/aarch64-test.log | awk '{s+=$1} END {print s+0}')
[ "$passed" -gt 0 ] || { say "FAILED: no test ran"; exit 1; }
say "$passed tests passed under qemu-aarch64 in $(( $(date +%s) - started )) s"
