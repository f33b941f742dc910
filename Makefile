# One entry point for people and CI. Everything builds with --release: an
# unoptimised wasmtime compiles the engine component ~14x slower.
CARGO ?= cargo
JOBS  ?= 2

.PHONY: setup demo test test-fast fmt lint bench clean-demo

## setup: install the wasm32-wasip2 target named in rust-toolchain.toml
setup:
	rustup target add wasm32-wasip2

## demo: the main job: load the Debian package catalog into REM and query it
demo: setup
	./scripts/demo.sh

## test: every test of the workspace (unit, integration, CLI, crash)
test: setup
	$(CARGO) test --release --locked --workspace -j $(JOBS)

## fmt: format the code
fmt:
	$(CARGO) fmt --all

## lint: formatting and clippy, warnings as errors
lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --locked --workspace --all-targets -j $(JOBS) -- -D warnings

## bench: the benchmarks reported in docs/benchmarks.md
bench: setup
	./scripts/bench.sh

clean-demo:
	rm -rf target/demo
