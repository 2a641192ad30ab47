#!/usr/bin/env bash
# The npm package's whole check, as `make test` runs it from the repository root:
#   bash js/scripts/test.sh
# Installs what is missing (wasm target, pinned wasm-bindgen CLI, npm deps from
# package-lock.json), builds the mock provider and the package, runs every JS
# test (conformance vectors, fault catalogue, stampede, API, client.fetch and the
# axios and ky integrations through the shared 401 table, Node/workerd/Deno/Bun
# smoke, packed tarball, bundler matrix), lints the packed tarball (publint, attw),
# then prints the budgets (TOKENWELL_SKIP_BENCH=1 skips them). Non-interactive;
# exits non-zero on failure.
set -euo pipefail
export CI="${CI:-true}"
JS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${TOKENWELL_CRATE_DIR:-$(cd "$JS/.." && pwd)}"
REPO="$(cd "$JS/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '[js test] %s\n' "$*" >&2; }

command -v node >/dev/null || { log "node is required (>= 18)"; exit 1; }
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 18 ] || { log "node >= 18 is required, found $(node --version)"; exit 1; }

# npm dev dependencies (miniflare/workerd, deno, bun, binaryen, esbuild, typescript, the peer for the bench).
if [ ! -d "$JS/node_modules" ] || [ "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ]; then
  log "npm ci"
  # npm ci refuses a lock that lacks optional platform packages the registry here does not
  # serve (@deno/darwin-*, …); npm install then installs the same locked versions.
  (cd "$JS" && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null \
    || npm install --no-audit --no-fund --loglevel=error; })
fi

# The mock provider (tokenwell mock --port 0), started by the tests themselves.
# (A TOKENWELL_MOCK_BIN set by the caller is used as it is.)
if [ -z "${TOKENWELL_MOCK_BIN:-}" ]; then
  log "cargo build --features cli (the mock provider)"
  cargo build --quiet --features cli,ffi --bin tokenwell --manifest-path "$ROOT/Cargo.toml" --target-dir "$TARGET_DIR"
  export TOKENWELL_MOCK_BIN="$TARGET_DIR/debug/tokenwell"
fi

# The package.
bash "$JS/scripts/build.sh"

# The wasm adapter's own Rust tests, in Node (wasm-bindgen-test-runner comes
# with the pinned wasm-bindgen CLI that build.sh installed).
log "cargo test --target wasm32-unknown-unknown --test wasm"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --test wasm --manifest-path "$ROOT/Cargo.toml" \
  --target-dir "$TARGET_DIR"

# The tests (node's runner; each file starts and stops its own mock).
log "node --test"
cd "$JS"
status=0
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
node --test --test-reporter=spec \
  test/vectors.test.mjs test/faults.test.mjs test/api.test.mjs test/adapters.test.mjs test/errors.test.mjs test/logging.test.mjs test/schema.test.mjs test/events.test.mjs test/otel.test.mjs test/redis.test.mjs test/redis-cluster.test.mjs test/edge.test.mjs test/runtimes.test.mjs test/pack.test.mjs test/bundlers.test.mjs test/cold.test.mjs test/oidc.test.mjs test/discovery.test.mjs 2>&1 | tee "$report" || status=$?
passed="$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$report" | tail -1)"
failed="$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$report" | tail -1)"

# The packed tarball as the registry would serve it: publint and attw.
if [ "$status" -eq 0 ]; then
  log "publint, attw (the packed tarball)"
  packdir="$(mktemp -d)"
  trap 'rm -f "$report"; rm -rf "$packdir"' EXIT
  npm pack --silent --pack-destination "$packdir" >/dev/null
  bash "$JS/scripts/lint.sh" "$packdir"/tokenwell-*.tgz || status=$?
fi

# The budgets (figures, not assertions).
if [ "$status" -eq 0 ] && [ "${TOKENWELL_SKIP_BENCH:-0}" != 0 ]; then
  log "benchmarks skipped (TOKENWELL_SKIP_BENCH=$TOKENWELL_SKIP_BENCH)"
elif [ "$status" -eq 0 ]; then
  log "benchmarks"
  node "$REPO/bench/js/bench.mjs" || status=$?
fi
echo "js: ${passed:-0} passed, ${failed:-0} failed"
[ "$status" -eq 0 ] || echo "js: FAILED (exit $status)" >&2
exit "$status"
