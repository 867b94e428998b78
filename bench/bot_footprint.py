"""What one paper bot costs: time from process start to its control API answering, and memory.

``runbot.py --config configs/paper_grid.yml`` with the control API on, as a real process (the
way Supervisor starts it), on a fresh SQLite database: start -> ``/health`` answering, then the
resident set size (``VmRSS``) after it has traded for ``WARM_UP_SECONDS``. Medians of
``RUNS`` starts. Targets: ready <= 1 s, RSS <= 90 MB (a paper bot imports no real venue SDK).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.harness import machine
from core.paths import PROJECT_ROOT
from database.migrate import upgrade

RUNS = 3
WARM_UP_SECONDS = 15.0
CONFIG = PROJECT_ROOT / "configs" / "paper_grid.yml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc status")


def one_run(root: Path) -> tuple[float, float]:
    url = f"sqlite+aiosqlite:///{root / 'bot.db'}"
    asyncio.run(upgrade(url))
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": url,
        "PERPFLEET_VAR_DIR": str(root / "var"),
        "PERPFLEET_CONTROL_TOKEN": "bench-token-" + "x" * 32,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [
        sys.executable,
        "runbot.py",
        "--config",
        str(CONFIG),
        "--enable-control-api",
        "--control-api-port",
        str(port),
        "--log-level",
        "WARNING",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while True:
            if process.poll() is not None:
                errors = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"the bot exited: {errors}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
        ready = time.perf_counter() - started
        time.sleep(WARM_UP_SECONDS)
        return ready, _rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    sys.stdout.write(f"bot footprint, paper grid ({machine()}; medians of {RUNS} starts)\n")
    readies, rss = [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            ready, memory = one_run(Path(tmp))
        readies.append(ready)
        rss.append(memory)
    sys.stdout.write(
        f"  {'process start -> control API answering':<52} {statistics.median(readies):7.2f} s"
        "    target <= 1 s\n"
    )
    sys.stdout.write(
        f"  {f'RSS after {WARM_UP_SECONDS:g} s of trading':<52} {statistics.median(rss):7.1f} MB"
        "   target <= 90 MB\n"
    )


if __name__ == "__main__":
    main()
