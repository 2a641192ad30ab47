#!/usr/bin/env bash
# Lints a packed npm tarball as the registry would serve it (js/scripts/test.sh
# and scripts/dist.sh):  bash js/scripts/lint.sh tokenwell-X.Y.Z.tgz
#   publint --strict  package.json, exports, files
#   attw              types and JS resolve for node10, node16 (CJS and ESM) and
#                     bundler. ./workerd is ESM-only by design (workerd runs ES
#                     modules; the entry imports the .wasm as a module): checked in
#                     the ESM modes only.
set -euo pipefail
JS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tarball="${1:?usage: lint.sh TARBALL}"
bin="$JS/node_modules/.bin"
"$bin/publint" --strict "$tarball"
# (the tarball first: --entrypoints and --exclude-entrypoints take every argument after them)
"$bin/attw" "$tarball" --no-color --format table-flipped --exclude-entrypoints ./workerd
"$bin/attw" "$tarball" --no-color --format table-flipped --profile esm-only --entrypoints ./workerd
