"""The Python examples of README.md and host-python/README.md run as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import types
from pathlib import Path
from typing import List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]


def examples() -> List[Tuple[str, str]]:
    out = []
    for readme in (ROOT / "README.md", ROOT / "host-python" / "README.md"):
        blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)
        out += [(f"{readme.relative_to(ROOT)}#{i}", b) for i, b in enumerate(blocks)]
    return out


@pytest.mark.parametrize("name, code", examples(), ids=[n for n, _ in examples()])
def test_readme_example_runs(name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("P8_HOME", str(tmp_path / "p8"))
    printed = io.StringIO()
    # A real module, so Pydantic can resolve the example's annotations.
    module = types.ModuleType("readme_example")
    monkeypatch.setitem(sys.modules, "readme_example", module)
    with contextlib.redirect_stdout(printed):
        exec(compile(code, name, "exec"), module.__dict__)
    assert printed.getvalue().strip(), f"{name} printed nothing"
    assert "Traceback" not in printed.getvalue()


def test_readmes_have_python_examples() -> None:
    assert len(examples()) >= 2
