"""``python -m funding_rate_service`` as a real process for the runner and fuzz tests."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from database.migrate import upgrade
from tests.helpers import PROJECT_ROOT, cli_env


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def migrated_sqlite(root: Path) -> str:
    url = f"sqlite+aiosqlite:///{root / 'funding.db'}"
    asyncio.run(upgrade(url))
    return url


@contextmanager
def running_service(
    root: Path, port: int, args: list[str], env: Mapping[str, str]
) -> Iterator[Service]:
    """The service started with ``args``; yields once /health answers; SIGTERM at the end."""
    log_path = root / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "funding_rate_service", "--port", str(port), *args],
            cwd=PROJECT_ROOT,
            env=cli_env(root / "var", env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        service = Service(process, port, log_path)
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{service.url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.1)
            yield service
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


def wait_for(predicate: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not true within {seconds} s")
