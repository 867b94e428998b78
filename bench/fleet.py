"""Twenty paper bots under one supervisord: launch time, memory, CPU while they trade.

Each bot is a paper grid (its own simulated wallet); all are launched through the fleet at once
(each ``launch`` returns once its bot is RUNNING and its control API answers). Then, for
``IDLE_SECONDS``, the bots trade the synthetic market and their CPU time is sampled from
``/proc``; total RSS is read at the end. SQLite journal (one file, 20 writers).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import machine
from core.logging_setup import configure_logging
from core.paths import PROJECT_ROOT
from database.migrate import upgrade
from fleet.manager import FleetManager

BOTS = 20
IDLE_SECONDS = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def bench(root: Path) -> None:
    url = f"sqlite+aiosqlite:///{root / 'fleet.db'}"
    await upgrade(url)
    fleet = FleetManager(root / "var", database_url=url)
    await fleet.up()
    template = (PROJECT_ROOT / "configs" / "paper_grid.yml").read_text()
    try:
        configs = []
        for index in range(BOTS):
            config = root / f"bot{index}.yml"
            config.write_text(template.replace("name: grid-btc-paper", f"name: bench-{index:02d}"))
            configs.append(str(config))
        started = time.perf_counter()
        await asyncio.gather(*(fleet.launch(config) for config in configs))
        launched = time.perf_counter() - started
        pids = [bot.pid for bot in await fleet.list_bots() if bot.pid]
        cpu_before = sum(_cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(IDLE_SECONDS)
        cpu = (sum(_cpu_seconds(pid) for pid in pids) - cpu_before) / IDLE_SECONDS * 100
        rss = sum(_rss_mb(pid) for pid in pids)
    finally:
        await fleet.down()
    sys.stdout.write(
        f"  {f'launch {BOTS} bots at once (all RUNNING, APIs answering)':<52} {launched:7.1f} s\n"
    )
    sys.stdout.write(f"  {f'total RSS of {len(pids)} bots':<52} {rss:7.0f} MB\n")
    sys.stdout.write(
        f"  {f'CPU of all bots over {IDLE_SECONDS:g} s of trading':<52} {cpu:7.1f} %"
        f"   ({cpu / max(1, len(pids)):.1f} % per bot; 100 % = one core)\n"
    )


def main() -> None:
    sys.stdout.write(f"fleet of paper bots ({machine()})\n")
    configure_logging(level="WARNING", stream=sys.stderr)
    root = Path(tempfile.mkdtemp(prefix="pf-bench-", dir="/tmp"))  # short: a unix socket path
    try:
        asyncio.run(bench(root))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
