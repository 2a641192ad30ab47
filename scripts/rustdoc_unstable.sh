#!/bin/sh
# rustdoc with its unstable options unlocked, for scripts/public_api.py's
# `--output-format json`. Given to cargo as RUSTDOC, it sets RUSTC_BOOTSTRAP for
# rustdoc alone: in cargo's own environment the variable would reach the build
# scripts that probe for it (proc-macro2, anyhow, thiserror), change their
# output, and rebuild every dependency that `make test-docs` has just built.
RUSTC_BOOTSTRAP=1 exec rustdoc "$@"
