"""Backtest throughput side by side: our engine, nautilus_trader and hftbacktest, one dataset.

The data is produced by the project itself: one day of the seeded synthetic market's BTC book
on the paper venue, recorded with FeedRecorder every 0.25 s (:mod:`backtest.record`) - about
300k L2 updates of ~10 level changes each - then exported to each engine's input
(:mod:`bench.engines.export`). The strategy is the same trivial one everywhere: on each
update, when the top-5 bid size over ask size is above 3 (below 1/3), cross the spread to buy
(sell), one entry's size being the position cap. Ours is the registered ``l2_imbalance``
running unchanged through the whole product stack (paper venue, execution layer and journal,
risk gate); nautilus_trader runs a Python ``Strategy`` on ``OrderBookDelta`` data;
hftbacktest runs a numba ``njit`` loop, as each is meant to be used.

nautilus_trader and hftbacktest are never product dependencies: they are installed by this
benchmark into its own virtual environment (``var/bench-engines/venv``, made by the venv
module, then pip from PyPI) and each engine runs in a fresh subprocess with a small
driver from ``bench/engines/`` that prints its events/s as one JSON line. An engine that
cannot be installed is reported in one line and skipped. The recording, the exported files
and the environment are kept under ``var/bench-engines`` and reused by the next run.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.engines.export import (
    EXPORT_VERSION,
    HFT_FILE,
    NAUTILUS_FILE,
    OURS_FILE,
    Exported,
    export,
)
from bench.harness import machine
from core.paths import PROJECT_ROOT, var_dir

ENGINES_DIR = PROJECT_ROOT / "bench" / "engines"
HOURS = 24
STEP_SECONDS = 0.25  # the recording's book sampling: the strategy's loop period too
SEED = 7
START = "2026-01-01"
SYMBOL = "BTC"
THRESHOLD = "3.0"
LEVELS = 5
ORDER_NOTIONAL_USD = Decimal(500)
EXTERNAL_ROUNDS = 3  # fast engines: median of 3 runs; ours runs once (minutes, not seconds)
PACKAGES = {"nautilus_trader": "nautilus-trader", "hftbacktest": "hftbacktest"}
DRIVERS = {
    "perpfleet": "ours_driver.py",
    "nautilus_trader": "nautilus_driver.py",
    "hftbacktest": "hftbacktest_driver.py",
}


class DriverFailed(Exception):
    """A driver exited non-zero or printed no JSON; the message says which and why."""


@dataclass(frozen=True)
class Inputs:
    """The exported files and the order size the other engines mirror from ours."""

    exported: Exported
    order_size: Decimal

    def data_for(self, engine: str) -> Path:
        return {
            "perpfleet": self.exported.ours,
            "nautilus_trader": self.exported.nautilus,
            "hftbacktest": self.exported.hftbacktest,
        }[engine]


def workdir() -> Path:
    return var_dir() / "bench-engines"


def record(out: Path, hours: float) -> None:
    """The synthetic session, recorded as ``python -m backtest.record`` records it."""
    from backtest.record import main as record_main

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name("partial-" + out.name)
    with contextlib.redirect_stdout(io.StringIO()):  # its line names the partial file
        code = record_main(
            [
                "--venue",
                "paper",
                "--seed",
                str(SEED),
                "--symbols",
                SYMBOL,
                "--from",
                START,
                "--hours",
                str(hours),
                "--step-seconds",
                str(STEP_SECONDS),
                "--out",
                str(partial),
            ]
        )
    if code != 0:
        raise RuntimeError(f"recording the synthetic session failed (exit {code})")
    partial.replace(out)


def _stamp(recording: Path) -> list[int]:
    stat = recording.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _exported(recording: Path, out_dir: Path) -> Exported:
    """The export, reused when ``export.json`` says it was made from this very recording
    (exporting a day takes minutes: the next run of the benchmark skips it)."""
    from exchange_clients.market_data.codec import decode_market, encode_market

    meta = out_dir / "export.json"
    files = (out_dir / OURS_FILE, out_dir / HFT_FILE, out_dir / NAUTILUS_FILE)
    if meta.exists() and all(f.exists() for f in files):
        saved = json.loads(meta.read_text(encoding="utf-8"))
        if (
            saved.get("recording") == _stamp(recording)
            and saved.get("symbol") == SYMBOL
            and (saved.get("version") == EXPORT_VERSION)
        ):
            return Exported(
                *files,
                decode_market(SYMBOL, saved["market"]),
                int(saved["updates"]),
                int(saved["changes"]),
                Decimal(saved["first_mid"]),
            )
    meta.unlink(missing_ok=True)
    exported = export(recording, out_dir, SYMBOL)
    document = {
        "recording": _stamp(recording),
        "version": EXPORT_VERSION,
        "symbol": SYMBOL,
        "market": encode_market(exported.market),
        "updates": exported.updates,
        "changes": exported.changes,
        "first_mid": str(exported.first_mid),
    }
    meta.write_text(json.dumps(document), encoding="utf-8")
    return exported


def prepare(recording: Path, out_dir: Path) -> Inputs:
    """Export ``recording`` for every engine and size one entry as ``l2_imbalance`` does."""
    from exchange_clients.rounding import round_size

    exported = _exported(recording, out_dir)
    size = round_size(exported.market, ORDER_NOTIONAL_USD / exported.first_mid)
    return Inputs(exported, size)


def driver_command(python: Path | str, engine: str, inputs: Inputs, *, count: bool) -> list[str]:
    command = [str(python), str(ENGINES_DIR / DRIVERS[engine]), str(inputs.data_for(engine))]
    if count:
        return [*command, "--count"]
    if engine == "perpfleet":
        return [
            *command,
            "--threshold",
            THRESHOLD,
            "--levels",
            str(LEVELS),
            "--order-notional-usd",
            str(ORDER_NOTIONAL_USD),
        ]
    extra = [
        "--threshold",
        THRESHOLD,
        "--levels",
        str(LEVELS),
        "--order-size",
        str(inputs.order_size),
        "--max-position",
        str(inputs.order_size),
    ]
    if engine == "hftbacktest":
        extra += [
            "--tick-size",
            str(inputs.exported.market.tick_size),
            "--lot-size",
            str(inputs.exported.market.step_size),
        ]
    return [*command, *extra]


def run_driver(command: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run one driver; its last stdout line is its JSON result."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=PROJECT_ROOT
        )
    except subprocess.TimeoutExpired:
        raise DriverFailed(f"{Path(command[1]).name} did not finish in {timeout:g} s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DriverFailed(f"{Path(command[1]).name} exited {done.returncode}: {tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def engines_python() -> Path:
    return workdir() / "venv" / "bin" / "python"


def install_engines() -> dict[str, str | None]:
    """The benchmark environment, created on first use: for each external engine, None when
    it imports, else the one line saying why it cannot be run."""
    python = engines_python()
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(python.parent.parent)],
                check=True,
                timeout=600,
                capture_output=True,
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                check=False,
                timeout=600,
                capture_output=True,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        reason = f"cannot create the benchmark environment {python.parent.parent}: {exc}"
        return dict.fromkeys(PACKAGES, reason)
    return {module: _install(python, module, package) for module, package in PACKAGES.items()}


def _install(python: Path, module: str, package: str) -> str | None:
    """None when ``module`` imports in the benchmark environment (pip-installed if needed)."""
    try:
        probe = [str(python), "-c", f"import {module}"]
        if subprocess.run(probe, capture_output=True, timeout=600, check=False).returncode == 0:
            return None
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", package],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"pip install {package} failed: {exc}"
    if done.returncode == 0:
        return None
    reason = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
    return f"pip install {package} failed (no wheel for this platform?): {reason}"


def verdict(ours: float, engine: str, theirs: float) -> str:
    """Where we stand against ``engine``, in words."""
    if ours >= theirs:
        return f"ours is {ours / theirs:.1f}x as fast as {engine}"
    return f"ours is {theirs / ours:.1f}x slower than {engine}"


def _median_run(command: list[str], rounds: int) -> dict[str, Any]:
    results = [run_driver(command) for _ in range(rounds)]
    results.sort(key=lambda r: float(r["events_per_second"]))
    median = dict(results[len(results) // 2])
    median["rounds"] = rounds
    median["all_events_per_second"] = [round(float(r["events_per_second"])) for r in results]
    return median


def main() -> None:
    sys.stdout.write(f"backtest engines side by side ({machine()})\n")
    folder = workdir() / f"data-{SYMBOL}-{HOURS}h-seed{SEED}"
    recording = folder / "recording.jsonl.gz"
    if not recording.exists():
        sys.stdout.write(f"  recording {HOURS} h of the synthetic market (once, kept) ...\n")
        sys.stdout.flush()
        record(recording, HOURS)
    inputs = prepare(recording, folder)
    exported = inputs.exported
    sys.stdout.write(
        f"  data: {exported.updates} L2 updates ({exported.changes} level changes) of "
        f"{SYMBOL}, {HOURS} h every {STEP_SECONDS:g} s; strategy: top-{LEVELS} imbalance > "
        f"{THRESHOLD} (< 1/{THRESHOLD}) crosses the spread, cap {inputs.order_size} {SYMBOL}\n"
    )
    sys.stdout.flush()
    results: dict[str, dict[str, Any]] = {}
    try:
        results["perpfleet"] = _median_run(
            driver_command(sys.executable, "perpfleet", inputs, count=False), 1
        )
    except DriverFailed as exc:
        sys.stdout.write(f"  perpfleet: {exc}\n")
        return
    status = install_engines()
    for engine in ("nautilus_trader", "hftbacktest"):
        if status[engine] is not None:
            sys.stdout.write(f"  {engine}: not run - {status[engine]}\n")
            continue
        try:
            results[engine] = _median_run(
                driver_command(engines_python(), engine, inputs, count=False), EXTERNAL_ROUNDS
            )
        except DriverFailed as exc:
            sys.stdout.write(f"  {engine}: not run - {exc}\n")
    ours = float(results["perpfleet"]["events_per_second"])
    for engine, result in results.items():
        rate = float(result["events_per_second"])
        version = f" {result['version']}" if result.get("version") else ""
        ratio = "" if engine == "perpfleet" else f"  ours / it = {ours / rate:6.3f}"
        sys.stdout.write(
            f"  {engine + version:<40} {rate:12,.0f} updates/s  "
            f"({result['seconds']:.2f} s, {result.get('orders', result.get('fills'))} "
            f"{'orders' if 'orders' in result else 'fills'}, median of {result['rounds']})"
            f"{ratio}\n"
        )
    for engine, result in results.items():
        if engine != "perpfleet":
            sys.stdout.write(f"  {verdict(ours, engine, float(result['events_per_second']))}\n")
    sys.stdout.write(
        "  ours runs the unchanged bot strategy through the paper venue, the execution layer "
        "(journal in SQLite) and the risk gate, with Decimal money; the others run a "
        "strategy written for the benchmark.\n"
    )
