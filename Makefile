# Two commands do everything on a fresh machine:
#   make demo   the cache at work against the embedded mock provider
#   make test   installs what is missing, then every check of every package
#   make dist   every artifact (wheels, sdist, crate, jars, npm tarball) into dist/, checked
#   make docs   the API reference of every language, one site in target/docs/
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help demo test test-rust api-baseline test-js test-python test-kotlin test-aarch64 test-versions test-docs docs dist bench redis-server oidc-provider

help:
	@echo "make demo   # the cache at work against the embedded mock provider"
	@echo "make test   # install what is missing, then run every test"
	@echo "make dist   # build and check every artifact into dist/ (long: four release cross builds)"
	@echo "make docs   # the API reference (Rust, Python, Kotlin, TypeScript) into target/docs/"

demo:
	cargo run --quiet --features cli -- demo

# Each package's script installs what it lacks (wasm target, pinned wasm-bindgen
# CLI, npm packages, maturin, Maven artifacts), builds, tests and prints its budgets.
test: test-versions test-docs test-rust test-aarch64 test-js test-python test-kotlin

# One version for the crate, the wheel, the jar and the npm package (Cargo.toml's).
test-versions:
	python3 scripts/check_versions.py

# The core's tests built for aarch64 and run under qemu-user: the cross build
# cannot rot unseen (make dist builds the aarch64 wheel and jar core).
test-aarch64:
	bash scripts/test-aarch64.sh

# rustdoc (broken intra-doc links denied) and TypeDoc, link-checked: the cheap
# part of make docs. The whole site (pdoc over the wheel, Dokka) is make docs'.
# Then the crate's public API against api/tokenwell.txt, from rustdoc's JSON
# (it reuses the dependencies cargo doc has just checked).
test-docs:
	bash scripts/docs/build.sh --check
	python3 scripts/public_api.py

# The API reference: rustdoc, pdoc, Dokka and TypeDoc, one site with an index
# page (target/docs/index.html); a broken internal link fails the build.
docs:
	bash scripts/docs/build.sh

# Wheels (manylinux2014, musllinux_1_2; x86-64, aarch64), sdist, crate, jars, npm tarball: dist/.
dist:
	bash scripts/dist.sh

# tests/redis.rs starts real servers: Debian's redis-server, installed when missing.
# Where it cannot be installed those tests skip, saying so (with CI set, they fail).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo "sudo -n")
redis-server:
	@command -v redis-server >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server) || \
	  echo "redis-server is missing and could not be installed: tests/redis.rs will skip"

# Every language's oidc tests start panva's oidc-provider (tests/oidc/server.mjs):
# its packages, installed from tests/oidc's lock file when missing or stale.
oidc-provider:
	bash tests/oidc/setup.sh

test-rust: redis-server oidc-provider
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	cargo fmt --check
	cargo clippy --all-targets --features cli,ffi,schema -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
	cargo test --features cli,ffi,schema

# The crate's public API, one item a line, is committed in api/tokenwell.txt and
# compared by make test-docs; after a change meant to alter it, rewrite it here
# (the one way to update it) and commit it with the change.
api-baseline:
	python3 scripts/public_api.py --bless

test-js: oidc-provider
	bash js/scripts/test.sh

test-python: oidc-provider
	bash bindings/python/test.sh

test-kotlin: oidc-provider
	bash bindings/kotlin/test.sh

# The Rust hot path (criterion). Each package's test script prints its own
# budgets (bench/js, bench/python, bench/kotlin), measured against its peers.
bench:
	cargo bench --bench cache_hit
