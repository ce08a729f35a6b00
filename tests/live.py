"""A live server for tests that need a real one (browsers, the documented quick start): uvicorn
in its own process on a free loopback port, with a fresh SQLite database migrated by Alembic."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.kit.db import create_db_engine
from app.kit.migrations import upgrade
from app.kit.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Live:
    url: str
    #: The server's environment: a CLI run with it works on the same database.
    env: dict[str, str]


@contextmanager
def live_server(
    directory: Path, prepare: Callable[[str], None] | None = None, **settings: str
) -> Iterator[Live]:
    """Serve the app until the block ends. ``settings`` are ZHIZAO_* values (without prefix);
    by default ENV=testing with a random secret. ``prepare`` gets the migrated database's URL
    before the server starts (to add data the server then serves)."""
    database = directory / "zhizao.db"
    url = f"sqlite:///{database}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    if prepare is not None:
        prepare(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ZHIZAO_ENV": "testing",
        "ZHIZAO_PUBLIC_URL": base,
        "ZHIZAO_DATABASE_URL": url,
        "ZHIZAO_SECRET_KEY": secrets.token_urlsafe(32),
        "ZHIZAO_LOG_LEVEL": "WARNING",
        **{f"ZHIZAO_{name}": value for name, value in settings.items()},
    }
    log = (directory / "uvicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-access-log"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {server.returncode}; see {log.name}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("uvicorn did not start within 30 s")
        yield Live(base, env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
