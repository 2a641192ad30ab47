#!/usr/bin/env bash
# The API reference of every language, as one site (make docs):
#   target/docs/index.html   links the four
#   target/docs/rust/        rustdoc (cargo doc --no-deps), broken intra-doc links denied
#   target/docs/python/      pdoc, from the package's source and docstrings (the
#                            generated tokenwell._ffi taken from the built wheel)
#   target/docs/kotlin/      Dokka (the release profile's plugin, bindings/kotlin/pom.xml)
#   target/docs/js/          TypeDoc over js/src/*.d.ts, with its own pinned
#                            TypeScript (scripts/docs/package.json)
# then scripts/docs/check_links.py over every page: a broken internal link fails.
#
# bash scripts/docs/build.sh --check   the cheap part `make test` runs: rustdoc
#   and TypeDoc (each link-checked), into target/docs-check/.
# Tools go to target/docs-tools/ (pdoc in a venv, TypeDoc's npm packages) once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
TOOLS="$TARGET/docs-tools"
PYTHON="${PYTHON:-python3}"
PDOC_VERSION=16.0.0

check=false
[ "${1:-}" = "--check" ] && check=true
if $check; then OUT="$TARGET/docs-check"; else OUT="$TARGET/docs"; fi

say() { printf 'docs: %s\n' "$*"; }
fail() { printf 'docs: FAILED: %s\n' "$*" >&2; exit 1; }
started=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT" "$TOOLS"

# --- Rust: rustdoc; an intra-doc link that does not resolve is an error ------------
step=$(date +%s)
# The features scripts/public_api.py reads the public API with (make test-docs
# runs it next): the two share every dependency's build.
API_FEATURES=cli,ffi,schema
RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links -D rustdoc::private_intra_doc_links" \
  cargo doc --quiet --no-deps --lib --features "$API_FEATURES" || fail "cargo doc (a broken intra-doc link?)"
mkdir -p "$OUT/rust"
cp -r "$TARGET/doc/tokenwell" "$TARGET/doc/static.files" "$TARGET/doc/src" "$OUT/rust/"
cp "$TARGET/doc/"*.html "$TARGET/doc/"*.js "$OUT/rust/"
for dir in search.index trait.impl type.impl search.desc; do
  [ ! -d "$TARGET/doc/$dir" ] || cp -r "$TARGET/doc/$dir" "$OUT/rust/"
done
# rustdoc's help and settings pages link to a crate list it only writes with an
# unstable flag: the crate's own page stands for it.
printf '<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=tokenwell/index.html"><a href="tokenwell/index.html">tokenwell</a>\n' \
  > "$OUT/rust/index.html"
say "rust: $(( $(date +%s) - step )) s"

# --- TypeScript: TypeDoc over the hand-written declarations ---------------------------
step=$(date +%s)
TD="$TOOLS/typedoc"
mkdir -p "$TD"
if ! cmp -s scripts/docs/package-lock.json "$TD/package-lock.json" || [ ! -x "$TD/node_modules/.bin/typedoc" ]; then
  say "installing TypeDoc and its TypeScript into $TD"
  cp scripts/docs/package.json scripts/docs/package-lock.json "$TD/"
  (cd "$TD" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci (TypeDoc)"
fi
# The adapters' declarations import their peers' types: resolved from the pinned
# copies beside TypeDoc, whether or not js/node_modules exists.
cat > "$TD/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler",
    "lib": ["ES2022", "DOM"], "strict": true, "noEmit": true, "types": [],
    "paths": {
      "axios": ["$TD/node_modules/axios"],
      "ky": ["$TD/node_modules/ky"],
      "@opentelemetry/api": ["$TD/node_modules/@opentelemetry/api"]
    }
  },
  "files": ["$ROOT/js/src/index.d.ts", "$ROOT/js/src/axios.d.ts", "$ROOT/js/src/ky.d.ts", "$ROOT/js/src/otel.d.ts"]
}
EOF
# --check leaves the type check to the js suite (test/pack.test.mjs runs the
# package's own tsc over the declarations) and halves TypeDoc's time; a link
# TypeDoc cannot resolve still fails.
td_check=()
! $check || td_check=(--skipErrorChecking)
"$TD/node_modules/.bin/typedoc" --logLevel Warn --treatWarningsAsErrors "${td_check[@]}" --tsconfig "$TD/tsconfig.json" \
  --name "tokenwell (npm)" --readme none --disableSources \
  --entryPoints js/src/index.d.ts js/src/axios.d.ts js/src/ky.d.ts js/src/otel.d.ts \
  --out "$OUT/js" || fail "typedoc"
say "js: $(( $(date +%s) - step )) s"

if ! $check; then
  # --- Python: pdoc over the source, with the wheel's generated module -------------
  step=$(date +%s)
  VENV="$TOOLS/venv"
  if [ ! -x "$VENV/bin/pdoc" ] || [ "$("$VENV/bin/pdoc" --version 2>/dev/null | head -1)" != "pdoc: $PDOC_VERSION" ]; then
    say "installing pdoc $PDOC_VERSION into $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q "pdoc==$PDOC_VERSION" || fail "pip install pdoc"
  fi
  shopt -s nullglob
  wheels=("$TARGET"/python/wheels/tokenwell-*.whl)
  shopt -u nullglob
  if [ "${#wheels[@]}" -eq 0 ]; then
    say "no wheel in $TARGET/python/wheels: building one (bash bindings/python/test.sh builds the same)"
    MATURIN="$(command -v maturin || true)"
    if [ -z "$MATURIN" ]; then
      [ -x "$TOOLS/maturin-venv/bin/maturin" ] || { "$PYTHON" -m venv "$TOOLS/maturin-venv" \
        && "$TOOLS/maturin-venv/bin/python" -m pip install -q "maturin>=1.16,<2"; } || fail "installing maturin"
      MATURIN="$TOOLS/maturin-venv/bin/maturin"
    fi
    (cd bindings/python && "$MATURIN" build --release -o "$TARGET/python/wheels") >"$TOOLS/maturin.log" 2>&1 \
      || { tail -n 40 "$TOOLS/maturin.log" >&2; fail "maturin build"; }
    wheels=("$TARGET"/python/wheels/tokenwell-*.whl)
  fi
  # The optional adapters import their HTTP clients and OpenTelemetry: the
  # versions the tests run with, so that each module documents.
  "$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "${wheels[0]}" || fail "installing the wheel"
  "$VENV/bin/python" -m pip install -q "httpx>=0.23" "requests>=2.20" "aiohttp>=3.12" "opentelemetry-api>=1.20" \
    || fail "installing the adapters' dependencies"
  site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  SRC="$TOOLS/python-src"
  rm -rf "$SRC" && mkdir -p "$SRC"
  cp -r bindings/python/tokenwell "$SRC/"
  cp -r "$site/tokenwell/_ffi" "$SRC/tokenwell/"
  (cd "$SRC" && PYTHONPATH="$SRC" PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/pdoc" --no-show-source \
    -o "$OUT/python" tokenwell tokenwell.httpx tokenwell.requests tokenwell.aiohttp tokenwell.otel) \
    || fail "pdoc"
  say "python: $(( $(date +%s) - step )) s"

  # --- Kotlin: Dokka, as the release profile configures it ---------------------------
  step=$(date +%s)
  mvn -B -q -f bindings/kotlin/pom.xml -Prelease -Dtokenwell.skipCargo=true dokka:dokka </dev/null \
    >"$TOOLS/dokka.log" 2>&1 || { tail -n 40 "$TOOLS/dokka.log" >&2; fail "dokka"; }
  cp -r bindings/kotlin/target/dokka "$OUT/kotlin"
  say "kotlin: $(( $(date +%s) - step )) s"
fi

# --- the index, then every link -----------------------------------------------------------
# The checker must see a broken file link and a broken anchor, or it proves nothing.
probe="$TOOLS/link-probe"
rm -rf "$probe" && mkdir -p "$probe"
printf '<a id="x" href="#x">ok</a><a href="gone.html">file</a><a href="#gone">anchor</a>\n' > "$probe/index.html"
probe_out="$("$PYTHON" scripts/docs/check_links.py "$probe" 2>&1)" && fail "check_links.py passed a broken page"
[ "$(grep -c '^broken link' <<<"$probe_out")" -eq 2 ] || fail "check_links.py missed a broken link: $probe_out"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
sed "s/@VERSION@/$version/g" scripts/docs/index.html > "$OUT/index.html"
if $check; then
  # Only two of the four were built: the index's links to the others are not checked.
  sed -i '/data-full-only/d' "$OUT/index.html"
fi
# rustdoc copies the docs of blanket impls from their crates into every type's
# page, with their relative links: tracing's `WithSubscriber` links
# `dispatcher#…` inside tracing's own docs, which a --no-deps build lacks.
"$PYTHON" scripts/docs/check_links.py --ignore '^dispatcher#' "$OUT" || fail "broken links (above)"
pages=$(find "$OUT" -name '*.html' | wc -l)
say "$OUT: $pages pages in $(( $(date +%s) - started )) s"
