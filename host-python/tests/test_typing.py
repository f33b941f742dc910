"""The public API type-checks under `mypy --strict`, and the typed example runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_mypy_strict_passes_on_a_file_using_the_whole_api(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path),
         str(HERE / "typed_usage.py")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_catches_misuse(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    bad = tmp_path / "bad.py"
    bad.write_text("from rem_db import REMDatabase\n"
                   "db = REMDatabase(':memory:')\n"
                   "n: str = db.count('t')\n"
                   "db.search('x', 'table')\n")
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
                             str(tmp_path / "c"), str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert "bad.py:3" in result.stdout and "bad.py:4" in result.stdout, result.stdout


def test_typed_example_runs() -> None:
    result = subprocess.run([sys.executable, str(HERE / "typed_usage.py")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok"


def test_package_is_typed() -> None:
    import rem_db

    root = Path(rem_db.__file__).parent
    assert (root / "py.typed").exists() and (root / "_rem.pyi").exists()
