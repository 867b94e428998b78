"""The engine comparison's data export and our side, on a tiny recording (offline).

The external engines are not run here (they live in the benchmark's own environment, installed
from PyPI); what is checked is what makes their figures comparable: every driver reads the
same number of L2 updates and level changes from its file, and each file rebuilds the very
book the recording describes. Our driver then runs ``l2_imbalance`` over its file to the end.
"""

from __future__ import annotations

import csv
import gzip
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from backtest.sources.recording import load_recording
from bench.backtest_engines import (
    DRIVERS,
    Inputs,
    _install,
    driver_command,
    prepare,
    record,
    run_driver,
    verdict,
)
from bench.engines.export import HFT_BUY_EVENT, NT_BUY, NT_F_LAST
from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent

Book = tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    folder = tmp_path_factory.mktemp("engines")
    recording = folder / "recording.jsonl.gz"
    record(recording, 0.02)  # 72 s of the synthetic market every 0.25 s
    return prepare(recording, folder / "export")


def _recorded_book(path: Path) -> Book:
    """The BTC book at the end of the original recording, from its events."""
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for event in load_recording(path).events():
        if isinstance(event, BookSnapshotEvent):
            bids, asks = dict(event.bids), dict(event.asks)
        elif isinstance(event, BookDeltaEvent):
            for side, levels in ((bids, event.bids), (asks, event.asks)):
                for price, size in levels:
                    if size:
                        side[price] = size
                    else:
                        side.pop(price, None)
    return bids, asks


def _set(book: dict[Decimal, Decimal], price: Decimal, size: Decimal) -> None:
    if size:
        book[price] = size
    else:
        book.pop(price, None)


def test_every_driver_counts_the_same_updates_from_its_file(inputs: Inputs) -> None:
    counts = {
        engine: run_driver(driver_command(sys.executable, engine, inputs, count=True))
        for engine in DRIVERS
    }
    expected = {"updates": inputs.exported.updates, "changes": inputs.exported.changes}
    assert inputs.exported.updates > 200  # one update every 0.25 s, a few without a change
    assert counts == dict.fromkeys(DRIVERS, expected)


def test_each_export_rebuilds_the_recorded_book(inputs: Inputs) -> None:
    recording = inputs.exported.ours.parent.parent / "recording.jsonl.gz"
    expected = _recorded_book(recording)
    assert expected[0]
    assert expected[1]
    assert _recorded_book(inputs.exported.ours) == expected

    nautilus: Book = ({}, {})
    with inputs.exported.nautilus.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        book = nautilus[0 if int(row["side"]) == NT_BUY else 1]
        _set(book, Decimal(row["price"]), Decimal(row["size"]))
    assert nautilus == expected
    assert sum(int(row["flags"]) == NT_F_LAST for row in rows) == inputs.exported.updates

    hft: Book = ({}, {})
    for row in np.load(inputs.exported.hftbacktest)["data"]:
        book = hft[0 if int(row["ev"]) & HFT_BUY_EVENT else 1]
        _set(book, Decimal(repr(float(row["px"]))), Decimal(repr(float(row["qty"]))))
    as_floats = tuple({float(p): float(s) for p, s in side.items()} for side in expected)
    assert tuple({float(p): float(s) for p, s in side.items()} for side in hft) == as_floats


def test_our_file_holds_only_the_book_updates(inputs: Inputs) -> None:
    with gzip.open(inputs.exported.ours, "rt", encoding="utf-8") as file:
        lines = file.readlines()
    assert '"format":"perpfleet-market-data"' in lines[0]
    assert all('"type":"snapshot"' in line or '"type":"delta"' in line for line in lines[1:])
    assert len(lines) - 1 == inputs.exported.updates


def test_our_driver_runs_l2_imbalance_over_the_whole_file(inputs: Inputs) -> None:
    result = run_driver(driver_command(sys.executable, "perpfleet", inputs, count=False))
    assert result["engine"] == "perpfleet"
    assert result["updates"] == inputs.exported.updates
    assert result["stopped_by"] is None
    # stepped every 0.25 s across the recording: at least one step per update
    assert result["steps"] >= inputs.exported.updates
    assert result["events_per_second"] > 0
    # the other drivers are given our entry size: 500 USD at the first mid, on the step grid
    size = inputs.order_size
    assert size > 0
    assert size % inputs.exported.market.step_size == 0
    assert abs(size * inputs.exported.first_mid - Decimal(500)) < (
        inputs.exported.market.step_size * inputs.exported.first_mid
    )


def test_an_engine_that_cannot_be_installed_is_one_line_not_a_crash(tmp_path: Path) -> None:
    reason = _install(tmp_path / "no-venv" / "bin" / "python", "hftbacktest", "hftbacktest")
    assert reason is not None
    assert reason.startswith("pip install hftbacktest failed: ")
    assert "\n" not in reason


def test_the_verdict_says_which_way_and_by_how_much() -> None:
    assert verdict(1000.0, "nautilus_trader", 4000.0) == "ours is 4.0x slower than nautilus_trader"
    assert verdict(3000.0, "nautilus_trader", 1000.0) == "ours is 3.0x as fast as nautilus_trader"


def test_the_export_of_the_same_recording_is_reused(inputs: Inputs) -> None:
    folder = inputs.exported.ours.parent
    written = inputs.exported.nautilus.stat().st_mtime_ns
    again = prepare(folder.parent / "recording.jsonl.gz", folder)
    assert again == inputs
    assert inputs.exported.nautilus.stat().st_mtime_ns == written


def test_no_engine_sees_a_crossed_book_within_an_update(inputs: Inputs) -> None:
    """Removals are written first: a book that resolves a cross itself (hftbacktest clears
    the crossed side) must never meet one, or its levels drift from the recording's."""
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    crossed = 0
    for row in np.load(inputs.exported.hftbacktest)["data"]:
        book = bids if int(row["ev"]) & HFT_BUY_EVENT else asks
        price, size = float(row["px"]), float(row["qty"])
        if size:
            book[price] = size
        else:
            book.pop(price, None)
        crossed += bool(bids and asks and max(bids) >= min(asks))
    assert crossed == 0
