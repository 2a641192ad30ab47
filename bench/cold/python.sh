#!/usr/bin/env bash
# Python's cold path against httpx and Authlib (bench/cold/python.py), outside
# `make test`. From the repository root:
#   bash bench/cold/python.sh [--before OLD.whl] [--runs N]
# Uses the wheel that `bash bindings/python/test.sh` built (target/python/wheels),
# or builds one (maturin, release) when there is none or it is older than the
# sources; installs it with httpx, requests and Authlib into
# target/python/cold-venv. --before OLD.whl adds a column for another build of
# tokenwell, measured in the same run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
PYTHON="${PYTHON:-python3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
WORK="$TARGET/python"
PEERS=("httpx>=0.28,<1" "requests>=2.32,<3" "authlib>=1.3,<2")

BEFORE_WHEEL="" RUNS=7
while [ $# -gt 0 ]; do
    case "$1" in
        --before) BEFORE_WHEEL="$(realpath "$2")"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        *) echo "usage: $0 [--before OLD.whl] [--runs N]" >&2; exit 2 ;;
    esac
done

shopt -s nullglob
wheels=("$WORK"/wheels/tokenwell-*.whl)
shopt -u nullglob
# A wheel older than a source it is built from would measure old code.
stale() { [ -n "$(find src bindings/python/tokenwell bindings/python/pyproject.toml Cargo.toml Cargo.lock uniffi.toml -newer "$1" -print -quit)" ]; }
if [ "${#wheels[@]}" -ne 1 ] || stale "${wheels[0]}"; then
    echo "cold: no wheel in $WORK/wheels, or one older than the sources: building one (maturin build --release)"
    MATURIN="$(command -v maturin || echo "$WORK/tools-venv/bin/maturin")"
    [ -x "$MATURIN" ] || { "$PYTHON" -m venv "$WORK/tools-venv"; "$WORK/tools-venv/bin/python" -m pip install -q "maturin>=1.16,<2"; }
    rm -rf "$WORK/wheels"
    (cd bindings/python && nice -n 10 "$MATURIN" build --release -o "$WORK/wheels") >"$WORK/maturin.log" 2>&1 \
        || { tail -n 40 "$WORK/maturin.log" >&2; exit 1; }
    wheels=("$WORK"/wheels/tokenwell-*.whl)
fi
cargo build --quiet --features cli,ffi --bin tokenwell  # the mock provider

venv() {  # venv DIR WHEEL: a fresh venv with the wheel and the peers
    rm -rf "$1"
    "$PYTHON" -m venv "$1"
    "$1/bin/python" -m pip install -q "$2" "${PEERS[@]}"
}
venv "$WORK/cold-venv" "${wheels[0]}"
args=(--python "$WORK/cold-venv/bin/python" --mock "$TARGET/debug/tokenwell" --runs "$RUNS")
if [ -n "$BEFORE_WHEEL" ]; then
    venv "$WORK/cold-before-venv" "$BEFORE_WHEEL"
    args+=(--before "$WORK/cold-before-venv/bin/python")
fi
"$WORK/cold-venv/bin/python" bench/cold/python.py "${args[@]}"
