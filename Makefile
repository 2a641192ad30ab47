# Two commands do everything on a fresh machine:
#   make demo   the cache at work against the embedded mock provider
#   make test   installs what is missing, then every check of every package
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help demo test test-rust bench

help:
	@echo "make demo   # the cache at work against the embedded mock provider"
	@echo "make test   # install what is missing, then run every test"

demo:
	cargo run --quiet --features cli -- demo

test: test-rust

test-rust:
	rustup component add rustfmt clippy >/dev/null 2>&1 || true
	cargo fmt --check
	cargo clippy --all-targets --features cli,ffi -- -D warnings
	cargo test --features cli,ffi

bench:
	cargo bench --bench cache_hit
