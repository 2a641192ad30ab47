#!/usr/bin/env bash
# The Python package's checks, from the repository root (`make test` runs it):
#   1. builds the mock provider (`tokenwell mock`) and the wheel (maturin, release);
#   2. installs the wheel with its test extras into a FRESH virtual environment;
#   3. runs the pytest suite from outside the source tree, against the installed wheel;
#   4. runs bench/python in a separate venv (with Authlib and the OpenTelemetry SDK) and
#      prints its figures (it fails if observability costs a cached hit over 1.25x),
#      then the OpenTelemetry console example once.
# Idempotent and non-interactive; installs what it needs (maturin) if missing.
# Environment: PYTHON (default python3), CARGO_TARGET_DIR, TOKENWELL_SKIP_BENCH=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CI="${CI:-true}" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
PYTHON="${PYTHON:-python3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
WORK="$TARGET/python"
mkdir -p "$WORK"

say() { printf 'python: %s\n' "$*"; }
fail() { printf 'python: FAILED: %s\n' "$*" >&2; exit 1; }

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || fail "CPython >= 3.9 needed ($PYTHON)"

# -- tools: maturin >= 1.16 (from PATH, else a tools venv kept between runs) ------
MATURIN=""
if command -v maturin >/dev/null 2>&1 \
    && maturin --version | awk '{split($2, v, "."); exit !(v[1] > 1 || (v[1] == 1 && v[2] >= 16))}'; then
    MATURIN="$(command -v maturin)"
else
    TOOLS="$WORK/tools-venv"
    if [ ! -x "$TOOLS/bin/maturin" ]; then
        say "installing maturin into $TOOLS"
        rm -rf "$TOOLS"
        "$PYTHON" -m venv "$TOOLS"
        "$TOOLS/bin/python" -m pip install -q "maturin>=1.16,<2"
    fi
    MATURIN="$TOOLS/bin/maturin"
fi
say "using $("$MATURIN" --version)"

# -- the mock provider (debug, same features as the Rust tests: no rebuild) -------
say "building the mock provider"
cargo build --quiet --features cli,ffi --bin tokenwell
MOCK_BIN="$TARGET/debug/tokenwell"
[ -x "$MOCK_BIN" ] || fail "mock provider not found at $MOCK_BIN"

# -- the wheel ---------------------------------------------------------------------
say "building the wheel (maturin build --release; several minutes on a cold cache)"
rm -rf "$WORK/wheels"
start=$(date +%s)
(cd bindings/python && "$MATURIN" build --release -o "$WORK/wheels") >"$WORK/maturin.log" 2>&1 \
    || { tail -n 60 "$WORK/maturin.log" >&2; fail "maturin build"; }
build_secs=$(( $(date +%s) - start ))
shopt -s nullglob
wheels=("$WORK"/wheels/tokenwell-*.whl)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $WORK/wheels, found ${#wheels[@]}"
WHEEL="${wheels[0]}"
wheel_bytes=$(stat -c %s "$WHEEL")
so_bytes=$("$PYTHON" - "$WHEEL" <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
for need in ("tokenwell/__init__.py", "tokenwell/py.typed", "tokenwell/httpx.py", "tokenwell/requests.py", "tokenwell/aiohttp.py",
             "tokenwell/otel.py", "tokenwell/_events.py",
             "tokenwell/_ffi/__init__.py", "tokenwell/_ffi/tokenwell.py", "tokenwell/_ffi/libtokenwell.so"):
    if need not in names:
        sys.exit(f"the wheel lacks {need}")
print(z.getinfo("tokenwell/_ffi/libtokenwell.so").file_size)
EOF
) || fail "wheel contents"
say "built $(basename "$WHEEL") in ${build_secs}s: wheel $wheel_bytes bytes, native library $so_bytes bytes"

# -- a fresh venv with the wheel and the test extras --------------------------------
VENV="$WORK/test-venv"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "${WHEEL}[test]" || fail "installing the wheel"

# -- pytest, from a directory where the source tree is not importable ---------------
RUN_DIR="$(mktemp -d)"
trap 'rm -rf "$RUN_DIR"' EXIT
set +e
rm -f "$WORK/pytest.xml"
(cd "$RUN_DIR" && TOKENWELL_MOCK_BIN="$MOCK_BIN" timeout 900 "$VENV/bin/python" -m pytest "$ROOT/bindings/python/tests" \
    -p no:cacheprovider --import-mode=importlib -o faulthandler_timeout=120 -q -ra --durations=5 \
    --junitxml="$WORK/pytest.xml")
status=$?
set -e
counts=$("$PYTHON" - "$WORK/pytest.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0"); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
total = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(total - bad - skipped, bad, skipped)
EOF
)
read -r n_passed n_failed n_skipped <<<"$counts"
[ "$status" -ne 5 ] || fail "pytest collected no tests"
[ "$status" -eq 0 ] || { printf 'python: %s passed, %s failed\n' "$n_passed" "$n_failed"; fail "pytest exited with $status"; }
[ "$n_passed" -gt 0 ] || fail "pytest ran no test"

# -- the bench, with Authlib in its own venv ------------------------------------------
if [ "${TOKENWELL_SKIP_BENCH:-0}" != 1 ]; then
    BENCH_VENV="$WORK/bench-venv"
    rm -rf "$BENCH_VENV"
    "$PYTHON" -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/python" -m pip install -q "$WHEEL" "authlib>=1.3,<2" requests "opentelemetry-sdk>=1.20" || fail "installing the bench venv"
    (cd "$RUN_DIR" && timeout 600 "$BENCH_VENV/bin/python" "$ROOT/bench/python/bench.py" --mock "$MOCK_BIN") || fail "bench"
    say "the OpenTelemetry console example (bench/python/otel_console.py)"
    (cd "$RUN_DIR" && timeout 120 "$BENCH_VENV/bin/python" "$ROOT/bench/python/otel_console.py" --mock "$MOCK_BIN") \
        >"$WORK/otel_console.log" 2>&1 || { tail -n 40 "$WORK/otel_console.log" >&2; fail "the OpenTelemetry example"; }
    grep -q '"name": "POST"' "$WORK/otel_console.log" && grep -q 'tokenwell.token.requests' "$WORK/otel_console.log" \
        || { tail -n 40 "$WORK/otel_console.log" >&2; fail "the OpenTelemetry example printed no span or no metric"; }
fi

say "wheel $(basename "$WHEEL"): $wheel_bytes bytes (native library $so_bytes bytes), built in ${build_secs}s"
printf 'python: %s passed, %s failed, %s skipped\n' "$n_passed" "$n_failed" "$n_skipped"
