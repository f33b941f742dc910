#!/usr/bin/env bash
# Runs the benchmarks reported in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p rem-cli -j "${JOBS:-2}"
cargo bench --locked -p rem-host --bench engine -j "${JOBS:-2}"
cargo bench --locked -p rem-host --bench query -j "${JOBS:-2}"
cargo bench --locked -p rem-host --bench graph -j "${JOBS:-2}"
cargo bench --locked -p rem-host --bench search -j "${JOBS:-2}"
