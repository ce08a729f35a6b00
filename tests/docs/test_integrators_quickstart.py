"""docs/integrators.md's quick start runs as written against a fresh `make run`: the curl (bash)
and the Python versions, against a live server migrated and seeded as `make run` does. The only
change made to the text is the address: the test server's port instead of 8000."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.kit.settings import PROJECT_ROOT
from tests.databases import IN_CI
from tests.live import live_server

GUIDE = PROJECT_ROOT / "docs" / "integrators.md"
MADE_RUN_ADDRESS = "http://127.0.0.1:8000"


def block(language: str, after_heading: str) -> str:
    """The first ``language`` code block after the heading starting with ``after_heading``."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index("\n## " + after_heading)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match is not None, f"no {language} block after {after_heading!r}"
    return match.group(1)


def test_the_quick_start_runs_verbatim(tmp_path: Path) -> None:
    for tool in ("bash", "curl", "jq"):
        if shutil.which(tool) is None:
            if IN_CI:
                pytest.fail(f"the quick start needs {tool} under CI=true (.ci/run installs it)")
            pytest.skip(f"{tool} is not installed")
    bash = block("bash", "2. Quick start (curl)")
    python = block("python", "3. Quick start (Python)")
    assert MADE_RUN_ADDRESS in bash and MADE_RUN_ADDRESS in python
    (tmp_path / ".venv").symlink_to(PROJECT_ROOT / ".venv")  # "from the checkout"
    with live_server(tmp_path, ENV="development", WEBHOOK_WORKER="off") as live:
        env = {**live.env, "PATH": os.environ.get("PATH", "")}
        # What `make run` does before serving (the database is migrated already): the demo data,
        # so that a credit code copied from the guide must not be the demo firm's.
        subprocess.run(
            [sys.executable, "-m", "app", "seed-demo"],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        script = "set -euo pipefail\n" + bash.replace(MADE_RUN_ADDRESS, live.url)
        ran = subprocess.run(
            ["bash", "-c", script + '\necho "KEY=$KEY"'],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        out = ran.stdout
        assert f"{live.url}/invitations/" in out  # the owner's link
        assert '"overall":' in out and '"rung":' in out and '"rung_name":' in out
        assert "91310115MA1Q7K2T55  registration" in out  # GET /grants lists the firm
        key = out.rsplit("KEY=", 1)[1].strip()

        program = tmp_path / "quickstart.py"
        program.write_text(python.replace(MADE_RUN_ADDRESS, live.url), encoding="utf-8")
        ran = subprocess.run(
            [sys.executable, str(program)],
            cwd=tmp_path,
            env={**env, "KEY": key},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "hand this link to the firm: " + live.url + "/invitations/" in ran.stdout
        overall, rung = ran.stdout.splitlines()[-1].split()[:2]
        assert 2.75 <= float(rung) <= 4.0 and 2.75 <= float(overall) <= 4.0
