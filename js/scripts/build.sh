#!/usr/bin/env bash
# Builds the npm package into js/dist: the Rust core for wasm32-unknown-unknown,
# the wasm-bindgen CLI (`--target web`, pinned to the crate's exact version),
# wasm-opt -Oz (npm `binaryen`; Debian's is too old), then the ESM, workerd and
# CommonJS entries (the Node ones with the .wasm inlined, so bundles need no copied
# file) and the TypeScript declarations. Installs what is missing.
set -euo pipefail
JS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${TOKENWELL_CRATE_DIR:-$(cd "$JS/.." && pwd)}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '[js build] %s\n' "$*" >&2; }

# 1. Toolchain: the wasm target and the wasm-bindgen CLI at the crate's version.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
WB_VERSION="$(awk '$0=="name = \"wasm-bindgen\"" {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock" 2>/dev/null || true)"
if [ -z "$WB_VERSION" ]; then
  WB_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -1)"
fi
[ -n "$WB_VERSION" ] || { log "cannot find the wasm-bindgen version in Cargo.lock / Cargo.toml"; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  log "installing wasm-bindgen-cli $WB_VERSION"
  # Not --locked: the registry here lacks one of its locked dependency versions.
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# The core is built by the nightly toolchain with its standard library rebuilt for
# size (-Zbuild-std, optimize_for_size, panics that abort without formatting a
# message): 7 KB gzipped less than stable's prebuilt std, which keeps the panic
# and formatting machinery. A panic traps either way (the crate sets no panic hook
# in WebAssembly). -Zlocation-detail=none leaves out the source paths, lines and
# columns that panic locations would carry (an aborting panic never shows them).
# It needs only the rust-src component, no wasm32 target.
WASM_TOOLCHAIN="${TOKENWELL_WASM_TOOLCHAIN:-nightly}"
if ! rustup run "$WASM_TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  log "installing the $WASM_TOOLCHAIN toolchain (rust-src)"
  rustup toolchain install "$WASM_TOOLCHAIN" --profile minimal --component rust-src
elif ! rustup component list --toolchain "$WASM_TOOLCHAIN" --installed 2>/dev/null | grep -q '^rust-src'; then
  log "adding rust-src to $WASM_TOOLCHAIN"
  rustup component add rust-src --toolchain "$WASM_TOOLCHAIN"
fi

# 2. npm dev dependencies (binaryen's wasm-opt, esbuild), from the lock file.
if [ ! -d "$JS/node_modules" ] || [ "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ]; then
  log "npm ci"
  # npm ci refuses a lock that lacks optional platform packages the registry here does not
  # serve (@deno/darwin-*, …); npm install then installs the same locked versions.
  (cd "$JS" && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null \
    || npm install --no-audit --no-fund --loglevel=error; })
fi

# 3. The core, optimised for size (the profile's opt-level 3 is for native; the
#    release profile's lto = true and codegen-units = 1 apply here too) with the
#    smaller allocator (`small-alloc`: talc instead of dlmalloc).
#    Its own target directory: a nightly build next to the stable ones would
#    rebuild each on every switch.
log "cargo +$WASM_TOOLCHAIN build --release --target wasm32-unknown-unknown --lib --features small-alloc -Zbuild-std"
start=$(date +%s)
CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_PANIC=abort CARGO_PROFILE_RELEASE_STRIP=false \
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
  cargo "+$WASM_TOOLCHAIN" build --quiet --release --target wasm32-unknown-unknown --lib --features small-alloc \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
  --manifest-path "$ROOT/Cargo.toml" --target-dir "$TARGET_DIR/wasm-build-std"
log "cargo build took $(( $(date +%s) - start )) s"

# 4. Bindings, then wasm-opt.
GEN="$JS/build/gen"
DIST="$JS/dist"
rm -rf "$GEN" "$DIST"
mkdir -p "$GEN" "$DIST"
# --omit-default-module-path: no `new URL('tokenwell_bg.wasm', import.meta.url)` in the
# glue (every entry passes the module to initSync; bundlers would chase that URL).
wasm-bindgen --target web --omit-default-module-path --out-dir "$GEN" --out-name tokenwell \
  "$TARGET_DIR/wasm-build-std/wasm32-unknown-unknown/release/tokenwell.wasm"
# -Oz until it stops shrinking; no debug info, producers or target-features section to ship.
# --low-memory-unused (1 KB less): Rust's wasm32 layout never uses the first 1 KB of memory
# (the stack grows down towards it from 1 MiB: only an overflowing stack would reach it).
# -ocimfs=30: wasm-opt inlines every function that has one caller, however big
# (the default), which left the config deserializer one 25 KB function; inlining only
# those up to 30 bytes ships 3 KB less gzipped and compiles less code for a config that
# leaves most fields out (V8 compiles a function on its first call, whole).
"$JS/node_modules/.bin/wasm-opt" -Oz --converge -ocimfs=30 --strip-debug --strip-producers --strip-target-features --low-memory-unused \
  --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$GEN/tokenwell_bg.wasm" -o "$DIST/tokenwell_bg.wasm"

# 5. Entries: Node/Bun ESM (the .wasm inlined as base64, bundled by esbuild into
#    one file), CommonJS (the same bundle as CommonJS), workerd (imports the .wasm
#    as a module), Deno (a source-phase import), declarations.
cp "$GEN/tokenwell.js" "$DIST/glue.mjs"
cp "$JS/src/client.mjs" "$JS/src/stores.mjs" "$JS/src/index.mjs" "$JS/src/workerd.mjs" "$JS/src/deno.mjs" "$JS/src/otel.mjs" "$DIST/"
node -e '
const fs = require("fs");
const b64 = fs.readFileSync(process.argv[1]).toString("base64");
fs.writeFileSync(process.argv[2], "// Generated by js/scripts/build.sh: tokenwell_bg.wasm, base64 (the Node entries inline it).\n" +
  "export const wasmBase64 = \"" + b64 + "\";\n");
' "$DIST/tokenwell_bg.wasm" "$DIST/wasm-base64.mjs"
# The Redis stores' Lua: the constants of src/fleet/scripts.rs, the one source
# (the native Redis store runs the same text).
node -e '
const src = require("fs").readFileSync(process.argv[1], "utf8");
const out = ["// Generated by js/scripts/build.sh from src/fleet/scripts.rs: do not edit."];
for (const m of src.matchAll(/pub const ([A-Z_]+): &str = r#"([\s\S]*?)"#;/g)) out.push(`export const ${m[1]} = ${JSON.stringify(m[2])};`);
if (out.length !== 6) { console.error("expected 5 scripts in " + process.argv[1]); process.exit(1); }
require("fs").writeFileSync(process.argv[2], out.join("\n") + "\n");
' "$ROOT/src/fleet/scripts.rs" "$DIST/scripts.mjs"
# The core's event and metrics tables (schema/events.json, schema/metrics.json,
# generated from src/events.rs and src/metrics.rs): the event objects and the
# OpenTelemetry instruments are built from them. Plain modules, so every entry
# (bundled or not) reads them without JSON import attributes.
node -e '
const fs = require("fs");
const [events, metrics, pkg, out] = process.argv.slice(1);
const table = JSON.parse(fs.readFileSync(events, "utf8")).events.map((e) => [e.name, e.fields]);
const instruments = JSON.parse(fs.readFileSync(metrics, "utf8")).metrics;
fs.writeFileSync(out, "// Generated by js/scripts/build.sh from schema/events.json and schema/metrics.json: do not edit.\n" +
  "export const EVENTS = " + JSON.stringify(table) + ";\n" +
  "export const METRICS = " + JSON.stringify(instruments) + ";\n" +
  "export const VERSION = " + JSON.stringify(JSON.parse(fs.readFileSync(pkg, "utf8")).version) + ";\n");
' "$ROOT/schema/events.json" "$ROOT/schema/metrics.json" "$JS/package.json" "$DIST/tables.mjs"
"$JS/node_modules/.bin/esbuild" "$DIST/index.mjs" --bundle --format=cjs --platform=node \
  --log-level=warning --outfile="$DIST/index.cjs"
# The ESM entry is one file too: Node's ESM loader resolves, reads and compiles
# each module of a graph, and the six files of this one cost about 2 ms more at
# the first import than their bundle (on the cold path).
"$JS/node_modules/.bin/esbuild" "$DIST/index.mjs" --bundle --format=esm --platform=node \
  --log-level=warning --outfile="$GEN/index.mjs"
mv "$GEN/index.mjs" "$DIST/index.mjs"
rm "$DIST/wasm-base64.mjs"
cp "$JS/src/index.d.ts" "$DIST/index.d.mts"
cp "$JS/src/index.d.ts" "$DIST/index.d.cts"
# tokenwell/otel: its own entry (ESM and CommonJS), with @opentelemetry/api, an
# optional peer dependency, left to the app: the main entries never import it.
"$JS/node_modules/.bin/esbuild" "$DIST/otel.mjs" --bundle --format=cjs --platform=node \
  --external:@opentelemetry/api --log-level=warning --outfile="$DIST/otel.cjs"
"$JS/node_modules/.bin/esbuild" "$DIST/otel.mjs" --bundle --format=esm --platform=neutral \
  --external:@opentelemetry/api --log-level=warning --outfile="$GEN/otel.mjs"
mv "$GEN/otel.mjs" "$DIST/otel.mjs"
cp "$JS/src/otel.d.ts" "$DIST/otel.d.mts"
cp "$JS/src/otel.d.ts" "$DIST/otel.d.cts"
# tokenwell/axios and tokenwell/ky: plain JS over the client's public API (no
# import of the core, of axios or of ky), ESM as written plus a CommonJS build.
for entry in axios ky; do
  cp "$JS/src/$entry.mjs" "$DIST/$entry.mjs"
  "$JS/node_modules/.bin/esbuild" "$DIST/$entry.mjs" --format=cjs --platform=neutral \
    --log-level=warning --outfile="$DIST/$entry.cjs"
  cp "$JS/src/$entry.d.ts" "$DIST/$entry.d.mts"
  cp "$JS/src/$entry.d.ts" "$DIST/$entry.d.cts"
done
raw=$(wc -c < "$DIST/tokenwell_bg.wasm")
gz=$(gzip -9c "$DIST/tokenwell_bg.wasm" | wc -c)
log "dist/tokenwell_bg.wasm: $raw bytes raw, $gz bytes gzipped"
# The budget: the WebAssembly every cold start downloads and compiles stays at
# most 105,000 bytes gzipped; a build above it fails.
BUDGET=105000
if [ "$gz" -gt "$BUDGET" ]; then
  log "OVER BUDGET: $gz bytes gzipped, $((gz - BUDGET)) over $BUDGET (profile: twiggy top -n 40 $GEN/tokenwell_bg.wasm)"
  exit 1
fi
log "budget: $((BUDGET - gz)) of $BUDGET gzipped bytes left"
