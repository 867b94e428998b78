"""Funding history read on demand (a FundingTape) answers exactly what its events, applied up to
then, answered: the same books, funding and change counts at every moment, the same wake-up
times, and the same backtest bytes as the event path."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import strategies  # noqa: F401 - registers the strategies' parameters
from backtest.run import run_backtest
from backtest.settings import BacktestSettings
from backtest.sources.feed import HistoryFeed, VenueData
from backtest.sources.funding import BookShape, FundingRow, FundingTape, drawn_book
from backtest.sources.funding_db import funding_venue
from backtest.sources.load import Dataset
from core.clock import ManualClock
from core.errors import UnknownSymbol
from core.venues import VENUES as CATALOGUE
from exchange_clients.market_data.events import BookSnapshotEvent, FundingEvent
from exchange_clients.types import Market
from trading_config.schema import BotConfig

START = datetime(2025, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _rows(
    rng: random.Random, interval: int, first: int, hours: int, mark: float
) -> list[FundingRow]:
    rate, rows = rng.gauss(0.0001, 0.0001), []
    for hour in range(first, hours + 1, interval):
        rate = 0.8 * rate + 0.2 * rng.gauss(0.0001, 0.0004)
        mark *= 1 + rng.gauss(0, 0.004)
        rows.append(
            FundingRow(
                START + timedelta(hours=hour),
                Decimal(f"{rate * interval:.8f}"),
                Decimal(interval),
                Decimal(f"{mark:.6g}"),
            )
        )
    return rows


def _venue(venue: str, hours: int, seed: int, symbols: int = 4) -> VenueData:
    """Symbols on the venue's schedule, and one that starts later (its own times)."""
    rng = random.Random(seed)
    interval = CATALOGUE[venue].default_funding_interval_hours
    marks = random.Random(1)
    by_symbol = {
        f"S{n}": _rows(rng, interval, interval, hours, 10 ** marks.uniform(-1, 4))
        for n in range(symbols)
    }
    by_symbol["LATE"] = _rows(rng, interval, 3 * interval, hours, 50.0)
    data = funding_venue(venue, by_symbol, "test rows", BookShape())
    assert isinstance(data.events, FundingTape)
    return data


def _as_events(data: VenueData) -> VenueData:
    """The same data with a plain event factory: read through events, not on demand."""
    tape = data.events
    return replace(data, events=lambda: tape())


def _state(feed: object, symbol: str) -> tuple[object, object]:
    try:
        book: object = feed.snapshot(symbol)  # type: ignore[attr-defined]
    except UnknownSymbol as exc:
        book = str(exc)
    return book, feed.funding(symbol)  # type: ignore[attr-defined]


def _listing(tick: str, step: str) -> Market:
    return Market(
        symbol="X",
        contract_id="X",
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        min_size=Decimal(step),
        min_notional=Decimal(0),
        max_leverage=Decimal(20),
    )


def _prices(levels: tuple[tuple[Decimal, Decimal], ...]) -> list[str]:
    return [str(price) for price, _ in levels]


@pytest.mark.parametrize(
    ("mark", "tick", "step", "bids", "asks", "size"),
    [
        # 2 bps: half 0.01, levels 0.02 apart, on a 0.01 tick; 250,000 USD / 100 = 2500 a level
        (
            "100",
            "0.01",
            "0.001",
            ["99.99", "99.97", "99.95", "99.93", "99.91"],
            ["100.01", "100.03", "100.05", "100.07", "100.09"],
            "2500",
        ),
        # a tick wider than the levels: each level one tick beyond the one before it
        (
            "100",
            "1",
            "1",
            ["99", "98", "97", "96", "95"],
            ["101", "102", "103", "104", "105"],
            "2500",
        ),
        # a price a few ticks above 0: the bids stop before reaching it
        ("0.00003", "0.00001", "1", ["0.00002", "0.00001"], ["0.00004", "0.00005"], "8333333333"),
    ],
)
def test_a_drawn_book_by_hand(
    mark: str, tick: str, step: str, bids: list[str], asks: list[str], size: str
) -> None:
    ts = START + timedelta(hours=3)
    book = drawn_book("v", _listing(tick, step), ts, Decimal(mark), BookShape())
    assert (_prices(book.bids), _prices(book.asks)) == (bids, asks)
    assert {str(s) for _, s in book.bids + book.asks} == {size}
    assert (book.venue, book.symbol, book.ts) == ("v", "X", ts)
    assert book.sequence == int(ts.timestamp()) * 1_000_000


def test_at_any_moment_the_tape_answers_what_the_events_up_to_then_did() -> None:
    data = _venue("binance", 48, seed=3)  # 8 h rows
    tape = data.events
    assert isinstance(tape, FundingTape)
    moments = {START, START + timedelta(hours=60)}
    for ts in tape.times:
        moments.update({ts - MICROSECOND, ts, ts + MICROSECOND, ts + timedelta(minutes=30)})
    for at in sorted(moments):
        clock = ManualClock(at)
        history, on_demand = HistoryFeed(data, clock), tape.feed(clock)
        for symbol in data.markets:
            assert _state(on_demand, symbol) == _state(history, symbol), (symbol, at)


def test_a_book_by_its_best_levels_is_the_book_drawn_when_read() -> None:
    data = _venue("binance", 48, seed=3)
    tape = data.events
    assert isinstance(tape, FundingTape)
    feed = tape.feed(ManualClock(START + timedelta(hours=30)))
    for symbol in data.markets:
        for version in range(feed.book_version(symbol) + 1):
            top = feed.book_top(symbol, version)
            assert top is not None  # 6-digit marks on their listing: vouched for
            book = feed.book(symbol, version)
            assert top.draw() == book
            assert [(str(p), str(s)) for p, s in (top.bid, top.ask)] == [
                (str(p), str(s)) for p, s in (book.bids[0], book.asks[0])
            ]
            assert top.sequence == book.sequence
    with pytest.raises(UnknownSymbol):
        feed.book_top("NOPE", 0)


async def test_following_the_clock_the_tape_wakes_and_counts_as_the_events_do() -> None:
    data = _venue("hyperliquid", 20, seed=5)  # 1 h rows
    tape = data.events
    assert isinstance(tape, FundingTape)
    clock = ManualClock(START + timedelta(minutes=90))
    history, on_demand = HistoryFeed(data, clock), tape.feed(clock)
    delivered: list[tuple[datetime, list[str]]] = []  # books per delivery time, event path
    counted: Counter[str] = Counter()
    followed: list[tuple[datetime, tuple[str, ...]]] = []

    history_events: list[object] = []

    async def consume_events() -> None:
        async for event in history.events():
            history_events.append(event)
            if not delivered or delivered[-1][0] != event.ts:
                delivered.append((event.ts, []))
            if isinstance(event, BookSnapshotEvent):
                delivered[-1][1].append(event.symbol)
                counted[event.symbol] += 1
            else:
                assert isinstance(event, FundingEvent)

    async def follow_tape() -> None:
        async for changed in on_demand.changes():
            followed.append((clock.now(), changed))

    streamed: list[object] = []  # the tape as a plain feed: the same events

    async def stream_tape() -> None:
        async for event in on_demand.events():
            streamed.append(event)

    tasks = [
        asyncio.create_task(consume_events()),
        asyncio.create_task(follow_tape()),
        asyncio.create_task(stream_tape()),
    ]
    await asyncio.sleep(0)
    for _ in range(24 * 6):
        await clock.advance(600)
        for symbol in data.markets:
            assert on_demand.book_count(symbol) == counted[symbol], symbol
            assert _state(on_demand, symbol) == _state(history, symbol), symbol
    for task in tasks:
        task.cancel()
    assert len(streamed) > len(data.markets)
    assert streamed == history_events
    opening = [
        s for ts, symbols in delivered if ts <= START + timedelta(minutes=90) for s in symbols
    ]
    assert followed[0][1] == tuple(opening)
    later = [(ts, tuple(symbols)) for ts, symbols in delivered if ts > followed[0][0]]
    assert [(ts, changed) for ts, changed in followed[1:]] == later
    assert any(changed for _, changed in later)
    assert any(not changed for _, changed in later)


def _config(mode: str) -> BotConfig:
    return BotConfig.model_validate(
        {
            "name": "tape-arb",
            "strategy": {
                "type": "funding_arbitrage",
                "params": {
                    "venues": list(VENUES),
                    "target_margin_usd": 100,
                    "max_positions": 3,
                    "max_leverage": 3,
                    "min_net_apr_pct": 5,
                    "min_volume_24h_usd": 0,
                    "min_hold_hours": 4,
                },
            },
            "exchanges": {venue: {"account": "t"} for venue in VENUES},
            "risk": {"max_total_exposure_usd": 10_000},
            # Maker legs rest across funding times: the books drawn there fill or move them.
            "execution": {"default_mode": mode, "limit_timeout_seconds": 7200},
        }
    )


VENUES = ("hyperliquid", "binance", "lighter")


@pytest.mark.parametrize("mode", ["market", "limit_with_fallback"])
async def test_a_backtest_on_the_tape_gives_the_bytes_of_the_event_path(mode: str) -> None:
    days = 4
    tapes = {venue: _venue(venue, days * 24, seed=n) for n, venue in enumerate(VENUES)}
    settings = BacktestSettings(
        data=("test",),
        start=START + timedelta(hours=24),  # every book drawn by then (LATE too)
        end=START + timedelta(days=days),
        step_seconds=3600.0,
        equity_seconds=3600.0,
    )
    on_demand = await run_backtest(_config(mode), settings, Dataset(venues=tapes))
    events = {venue: _as_events(data) for venue, data in tapes.items()}
    streamed = await run_backtest(_config(mode), settings, Dataset(venues=events))
    assert on_demand.fills
    assert on_demand.funding
    assert on_demand.to_bytes() == streamed.to_bytes()
