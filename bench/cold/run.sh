#!/usr/bin/env bash
# The cold path and the thousandth client, every figure against its
# peer in one run: Rust (per-client cost, hit scaling), Node and workerd (first
# token, per-client memory, Worker cold start), Python (import, first token,
# per-client cost), the JVM (start to first token, native load, raw call,
# per-client cost). Each part prints a markdown table: figure, tokenwell, peer,
# ratio. Outside `make test` (about 12 minutes); run `make test` once before, it
# builds every package. Absolute times on a shared machine are noisy: read the
# ratios, each measured in the same run as its peer.
#
#   bash bench/cold/run.sh [rust] [node] [python] [jvm]   (default: all)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(rust node python jvm)

for part in "${parts[@]}"; do
  echo
  echo "## $part"
  echo
  case "$part" in
    rust)
      cargo bench --quiet --bench clients
      # The hit's 2-thread scaling (criterion's figures for the hit path too).
      cargo bench --quiet --bench cache_hit 2>&1 | grep -E '^cache_hit: 2 threads'
      ;;
    node) node bench/cold/node.mjs ;;
    python) bash bench/cold/python.sh ;;
    jvm) bash bench/cold/jvm.sh ;;
    *) echo "unknown part: $part (rust, node, python, jvm)" >&2; exit 2 ;;
  esac
done
