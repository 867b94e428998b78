"""A paper bot loads no real venue's SDK: ``runbot.py`` run for real under ``-X importtime``.

Why: every bot used to import every venue package (ccxt ~0.64 s, eth_account/py_ecc ~0.33 s,
lighter's signer), which made a paper grid bot 183 MB and 2 s to a ready control API, and a
20-bot fleet 3.7 GB. The client factory now imports a venue's module only when a config names
the venue; this pins that for the process Supervisor actually starts.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.bot_configs import paper_grid_yaml
from tests.bot_runtime.test_runbot_e2e import TOKEN, free_port
from tests.helpers import PROJECT_ROOT, cli_env

HEAVY = (
    "ccxt",
    "eth_account",
    "py_ecc",
    "lighter",
    "alembic",  # the schema check reads alembic_version itself (database.schema_version)
    "aiohttp",  # HTTP/WebSocket clients: real venues and live feeds only (paper is in-process)
    "aiohttp_socks",
    "bot_runtime.proxies",  # the proxy stack loads only for use_proxy
    "rich.console",  # structlog loads rich when installed (dev tools bring it); runbot.py
    # marks it absent (the bare "rich" line importtime still prints is that refused attempt)
    "pygments",
    "pydantic.v1.main",  # FastAPI's check for legacy models; runbot.py marks pydantic.v1 absent
    "cryptography",  # decrypting credentials: real venues only (a paper account has none)
    "Crypto",  # pycryptodome (EIP-55 checksums of addresses typed in), with cffi and pycparser
    "cffi",
    "strategies.signal_portfolio.signals",  # validating a config loads params modules only
    "exchange_clients.ccxt_venue",
    "exchange_clients.hyperliquid",
    "exchange_clients.binance",
    "exchange_clients.aster",
    "exchange_clients.backpack",
    "exchange_clients.lighter",
)
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)


def imported(stderr: str) -> set[str]:
    return set(_IMPORTED.findall(stderr))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_a_running_paper_bot_never_imports_a_venue_sdk(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    config = tmp_path / "grid.yml"
    extra = f"control_api:\n  enabled: true\n  port: {port}\n"
    config.write_text(paper_grid_yaml("lean-grid", extra=extra))
    env = cli_env(
        tmp_path / "var",
        {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "PERPFLEET_CONTROL_TOKEN": TOKEN},
    )
    log = tmp_path / "stderr.txt"  # a file, not a pipe: ~60 kB of import lines would fill it
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", "runbot.py", "--config", str(config)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise AssertionError(f"no control API: {log.read_text()[-2000:]}")
        time.sleep(1.0)  # a few strategy steps: anything imported on first use shows up too
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    modules = imported(log.read_text())
    assert "exchange_clients.paper.client" in modules  # the log is the bot's imports
    assert heavy(modules) == []


def test_checking_a_paper_config_imports_no_venue_sdk(tmp_path: Path) -> None:
    config = tmp_path / "grid.yml"
    config.write_text(paper_grid_yaml("lean-check"))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "runbot.py", "--config", str(config), "--check"],
        cwd=PROJECT_ROOT,
        env=cli_env(tmp_path / "var"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert heavy(imported(result.stderr)) == []
