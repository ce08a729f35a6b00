"""The Makefile's ``run`` recipe as it hands over to the server: the links in e-mails start where
it serves, unless the operator chose a public address (a ``make run PORT=8123`` sent invitations
pointing at port 8000). The recipe runs for real, with a stand-in ``zhizao`` that reports what
``serve`` was given, and with ``install`` taken as done (``make -o install``)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from app.kit.settings import PROJECT_ROOT

STAND_IN = """#!/bin/sh
if [ "$1" = serve ]; then echo "public=${ZHIZAO_PUBLIC_URL:-} args=$*"; fi
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _run(tmp_path: Path, *variables: str, env: dict[str, str] | None = None) -> str:
    shutil.copy(PROJECT_ROOT / "Makefile", tmp_path / "Makefile")
    zhizao = tmp_path / "venv" / "bin" / "zhizao"
    zhizao.parent.mkdir(parents=True, exist_ok=True)
    zhizao.write_text(STAND_IN)
    zhizao.chmod(zhizao.stat().st_mode | stat.S_IXUSR)
    environment = {k: v for k, v in os.environ.items() if k != "ZHIZAO_PUBLIC_URL"}
    completed = subprocess.run(
        ["make", "-s", "-o", "install", "run", "VENV=venv", *variables],
        cwd=tmp_path,
        env=environment | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout.strip()


def test_links_follow_the_port_it_serves_on(tmp_path: Path) -> None:
    assert _run(tmp_path, "PORT=8123") == (
        "public=http://127.0.0.1:8123 args=serve --host 127.0.0.1 --port 8123"
    )


def test_a_public_address_from_the_environment_wins(tmp_path: Path) -> None:
    out = _run(tmp_path, "PORT=8123", env={"ZHIZAO_PUBLIC_URL": "https://zz.example"})
    assert out.startswith("public=https://zz.example ")


def test_a_public_address_in_dot_env_is_left_to_the_service(tmp_path: Path) -> None:
    # The service reads .env itself; the recipe must not override it with HOST:PORT.
    (tmp_path / ".env").write_text("ZHIZAO_PUBLIC_URL=https://zz.example\n")
    assert _run(tmp_path, "PORT=8123").startswith("public= ")
