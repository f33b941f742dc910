#!/usr/bin/env python3
"""Check that wasmtime is compiled once per `make test`.

Cargo unifies features per build, so the workspace's test build, `cargo build -p rem-cli` and
maturin's build of the wheel (`-p rem-python`) each compile wasmtime again unless every crate in
wasmtime's dependency closure gets the same features in all three (rem-host's Cargo.toml pins
them). This compares the three closures from cargo's unit graph (nightly: `--unit-graph -Z
unstable-options`; nothing is built) and prints every unit that differs.

Run: python3 scripts/check_feature_pins.py  (exit 1 when a closure differs)
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def closure(args):
    """The set of (package, target, mode, features, opt-level) units wasmtime's library depends on."""
    out = subprocess.run(["cargo", "+nightly", "build", "--release", "--unit-graph", "-Z", "unstable-options", *args],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.exit(out.stderr[-2000:])
    units = json.loads(out.stdout)["units"]
    roots = [i for i, u in enumerate(units)
             if u["target"]["name"] == "wasmtime" and u["mode"] == "build" and "lib" in u["target"]["kind"]]
    seen, stack = set(), list(roots)
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(d["index"] for d in units[i]["dependencies"])
    return {(units[i]["pkg_id"].split("/")[-1], units[i]["target"]["name"], units[i]["mode"],
             tuple(sorted(units[i]["features"])), units[i]["profile"].get("opt_level")) for i in seen}


def main():
    builds = {
        "workspace tests": closure(["--workspace", "--exclude", "rem-python", "--tests"]),
        "-p rem-cli": closure(["-p", "rem-cli"]),
        "-p rem-python": closure(["-p", "rem-python"]),
    }
    base = builds["workspace tests"]
    differ = False
    for name, units in builds.items():
        for unit in sorted(units ^ base):
            differ = True
            side = name if unit in units else "workspace tests"
            print(f"{name}: unit only in {side}: {unit}")
    print("wasmtime's closure differs between builds" if differ else "one wasmtime for all three builds")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
