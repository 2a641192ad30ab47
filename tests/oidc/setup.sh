#!/usr/bin/env bash
# Installs the oidc-provider launcher's packages (tests/oidc/package-lock.json)
# when node_modules is missing or was installed from another lock file; else
# does nothing. `make test` runs it before every language's tests.
# Without Node or npm: with CI set it fails; otherwise the oidc tests skip,
# saying so.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { printf 'oidc: %s\n' "$*"; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ -n "${CI:-}" ]; then
        say "FAILED: node and npm are needed for the oidc-provider tests" >&2
        exit 1
    fi
    say "node or npm is missing: the oidc-provider tests will skip"
    exit 0
fi

stamp="$dir/node_modules/.tokenwell-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
say "installing oidc-provider (npm ci in tests/oidc)"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
printf '%s\n' "$want" >"$stamp"
