"""Recording any feed to a file and replaying it: identical events, paced by the clock."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.errors import UnknownSymbol
from exchange_clients.market_data.events import (
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
)
from exchange_clients.market_data.recording import (
    FeedRecorder,
    RecordingError,
    ReplayFeed,
    record,
)
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.types import FundingRate, Market
from tests.exchange_clients.market_data.helpers import START, collect, settle

SECONDS = 30
END = START + timedelta(seconds=SECONDS)


async def _record(feed: SyntheticFeed | _QuietFeed, path: Path, clock: ManualClock) -> int:
    task = asyncio.create_task(record(feed, path, duration=SECONDS, clock=clock))
    await settle()
    for _ in range(4 * SECONDS + 8):
        if task.done():
            break
        await clock.advance(0.25)
    return await task


@pytest.fixture
async def recorded(tmp_path: Path) -> tuple[Path, list[MarketEvent]]:
    """A 30 s recording of a synthetic feed, and what that feed streams in those 30 s."""
    path = tmp_path / "paper_a.jsonl.gz"
    clock = ManualClock(START)
    count = await _record(SyntheticFeed(SyntheticMarket(3, "paper_a"), clock), path, clock)
    live_clock = ManualClock(START)
    live_feed = SyntheticFeed(SyntheticMarket(3, "paper_a"), live_clock)
    live = [e for _, e in await collect(live_feed, live_clock, SECONDS + 1) if e.ts < END]
    assert count == len(live)
    return path, live


def _shifted(event: MarketEvent, by: timedelta) -> MarketEvent:
    if isinstance(event, FundingEvent):
        rate = event.rate
        assert rate.ts is not None
        assert rate.next_funding_time is not None
        return FundingEvent(
            replace(rate, ts=rate.ts + by, next_funding_time=rate.next_funding_time + by)
        )
    return replace(event, ts=event.ts + by)


async def test_replay_yields_exactly_the_recorded_events(
    recorded: tuple[Path, list[MarketEvent]],
) -> None:
    path, live = recorded
    replay = ReplayFeed(path, ManualClock(START), speed=None)
    assert [e async for e in replay.events()] == live
    assert replay.venue == "paper_a"
    assert replay.markets() == SyntheticMarket(3, "paper_a").markets()


async def test_replayed_times_are_shifted_to_the_replay_start(
    recorded: tuple[Path, list[MarketEvent]],
) -> None:
    path, live = recorded
    later = START + timedelta(days=3, seconds=0.1)
    clock = ManualClock(later)
    replayed = [e async for e in ReplayFeed(path, clock, speed=None).events()]
    assert replayed == [_shifted(e, later - START) for e in live]
    assert clock.now() == later  # as fast as possible: no clock time passed


@pytest.mark.parametrize("speed", [1.0, 10.0])
async def test_replay_emits_each_event_at_its_time_divided_by_speed(
    recorded: tuple[Path, list[MarketEvent]], speed: float
) -> None:
    path, live = recorded
    begin = START + timedelta(hours=5)
    clock = ManualClock(begin)
    received = await collect(ReplayFeed(path, clock, speed=speed), clock, SECONDS / speed + 1)
    assert [e for _, e in received] == [_shifted(e, begin - START) for e in live]
    for emitted_at, event in received:
        due = begin + (event.ts - begin) / speed
        assert abs(emitted_at - due) <= timedelta(microseconds=1)
    assert received[-1][0] > begin + timedelta(seconds=(SECONDS - 1) / speed)


async def test_snapshot_and_funding_follow_the_replay(
    recorded: tuple[Path, list[MarketEvent]],
) -> None:
    path, _ = recorded
    market = SyntheticMarket(3, "paper_a")
    clock = ManualClock(START)
    replay = ReplayFeed(path, clock)
    assert replay.snapshot("ETH") == market.book("ETH", START)
    assert replay.funding("ETH") == market.funding_rate("ETH", START)
    received = await collect(replay, clock, 12.1, step=0.05)
    assert replay.snapshot("ETH") == market.book("ETH", START + timedelta(seconds=12))
    last_funding = [e for _, e in received if isinstance(e, FundingEvent) and e.symbol == "ETH"]
    assert replay.funding("ETH") == last_funding[-1].rate
    assert last_funding[-1].ts == START  # the recording's only funding update was at the start


async def test_recordings_of_one_stream_are_byte_identical(tmp_path: Path) -> None:
    files = []
    for name in ("one", "two"):
        clock = ManualClock(START)
        await _record(SyntheticFeed(SyntheticMarket(3, "paper_a"), clock), tmp_path / name, clock)
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1]
    assert len(files[0]) < 60_000  # compressed


class _QuietFeed:
    """A feed that sends its opening snapshot and then nothing at all."""

    def __init__(self, clock: ManualClock) -> None:
        self._inner = SyntheticFeed(SyntheticMarket(3, "paper_a", levels=2), clock)
        self._clock = clock
        self.venue = "paper_a"

    def markets(self) -> dict[str, Market]:
        return self._inner.markets()

    async def events(self) -> AsyncIterator[MarketEvent]:
        yield self._inner.snapshot("BTC")
        await self._clock.sleep(10 * SECONDS)

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        return self._inner.snapshot(symbol)

    def funding(self, symbol: str) -> FundingRate:
        return self._inner.funding(symbol)


async def test_recording_ends_on_time_even_when_the_feed_is_quiet(tmp_path: Path) -> None:
    clock = ManualClock(START)
    assert await _record(_QuietFeed(clock), tmp_path / "quiet.jsonl.gz", clock) == 1
    assert clock.now() <= END + timedelta(seconds=2)


def test_a_recorder_refuses_events_of_another_venue(tmp_path: Path) -> None:
    market = SyntheticMarket(3, "paper_b")
    with (
        FeedRecorder(tmp_path / "a.gz", "paper_a", market.markets()) as recorder,
        pytest.raises(ValueError, match="refusing an event of 'paper_b'"),
    ):
        recorder.write(market.book("BTC", START))


# --- damaged files ------------------------------------------------------------------------


def _header(version: object = 1) -> str:
    markets = {"BTC": {"contract_id": "BTC-PERP", "tick_size": "1", "step_size": "0.001",
                       "min_size": "0.001", "min_notional": "10", "max_leverage": "50",
                       "quantity_multiplier": "1", "quote": "USD"}}  # fmt: skip
    return json.dumps(
        {"format": "perpfleet-market-data", "version": version, "venue": "x", "markets": markets}
    )


SNAPSHOT = json.dumps(
    {"type": "snapshot", "symbol": "BTC", "ts": 1_772_452_800_000_000, "sequence": 10,
     "bids": [["100", "1"]], "asks": [["101", "1"]]}
)  # fmt: skip
TRADE = json.dumps(
    {"type": "trade", "symbol": "BTC", "ts": 1_772_452_800_100_000, "price": "101",
     "size": "0.5", "taker_side": "buy", "trade_id": "t1"}
)  # fmt: skip


def _delta(first: int, last: int) -> str:
    return json.dumps(
        {"type": "delta", "symbol": "BTC", "ts": 1_772_452_800_250_000, "first_sequence": first,
         "last_sequence": last, "bids": [["100", "0"]], "asks": []}
    )  # fmt: skip


async def _drain(feed: ReplayFeed, into: list[MarketEvent]) -> None:
    async for event in feed.events():
        into.append(event)


def _write(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write("".join(line + "\n" for line in lines))
    return path


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ([_header(2), SNAPSHOT], 1, "unsupported format version 2"),
        ([SNAPSHOT], 1, "not a perpfleet-market-data recording"),
        ([], 1, "empty recording"),
        ([_header()], 2, "holds no events"),
        ([_header(), SNAPSHOT, "{not json"], 3, "not JSON"),
        ([_header(), "[1, 2]"], 2, "expected a JSON object"),
        ([_header(), SNAPSHOT.replace("snapshot", "quote")], 2, "unknown event type 'quote'"),
        ([_header(), SNAPSHOT.replace('"100"', "100")], 2, "bids price must be a decimal string"),
        ([_header(), SNAPSHOT.replace('"100"', '"NaN"')], 2, "must be a finite number"),
        ([_header(), SNAPSHOT.replace('"ts"', '"time"')], 2, "ts must be an integer"),
    ],
)
def test_a_damaged_header_or_opening_names_file_and_line(
    tmp_path: Path, lines: list[str], line: int, message: str
) -> None:
    path = _write(tmp_path / "bad.jsonl.gz", lines)
    with pytest.raises(RecordingError, match=message) as caught:
        ReplayFeed(path, ManualClock(START))
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert caught.value.line == line


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([_header(), SNAPSHOT, TRADE, TRADE.replace("buy", "up")], "taker_side must be"),
        ([_header(), SNAPSHOT, TRADE, _delta(12, 13)], "at sequence 12 but the book is at 10"),
        ([_header(), TRADE, SNAPSHOT.replace("BTC", "ETH"), _delta(11, 12)], "before its snapshot"),
    ],
)  # fmt: skip
async def test_a_damaged_line_later_on_fails_the_stream_there(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    path = _write(tmp_path / "bad.jsonl.gz", lines)
    replay = ReplayFeed(path, ManualClock(START), speed=None)
    emitted: list[MarketEvent] = []
    with pytest.raises(RecordingError, match=message) as caught:
        await _drain(replay, emitted)
    assert str(caught.value).startswith(f"{path}:4: ")
    assert len(emitted) == 2


def test_a_file_that_is_not_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text(_header() + "\n" + SNAPSHOT + "\n")
    with pytest.raises(RecordingError, match="corrupt or truncated") as caught:
        ReplayFeed(path, ManualClock(START))
    assert str(caught.value).startswith(f"{path}:1: ")


async def test_a_truncated_recording_fails_after_its_last_whole_line(
    recorded: tuple[Path, list[MarketEvent]],
) -> None:
    path, live = recorded
    data = path.read_bytes()
    cut = path.with_name("cut.jsonl.gz")
    cut.write_bytes(data[: len(data) // 2])
    replay = ReplayFeed(cut, ManualClock(START), speed=None)
    emitted: list[MarketEvent] = []
    with pytest.raises(RecordingError, match="corrupt or truncated") as caught:
        await _drain(replay, emitted)
    assert 0 < len(emitted) < len(live)
    assert emitted == live[: len(emitted)]
    assert caught.value.line == len(emitted) + 2  # the header, then the events read


def test_speed_must_be_positive(tmp_path: Path) -> None:
    path = _write(tmp_path / "ok.jsonl.gz", [_header(), SNAPSHOT])
    for speed in (0.0, -1.0):
        with pytest.raises(ValueError, match="speed must be positive"):
            ReplayFeed(path, ManualClock(START), speed=speed)
    assert ReplayFeed(path, ManualClock(START), speed=0.5).snapshot("BTC").sequence == 10


def test_symbols_missing_from_a_recording_are_unknown(tmp_path: Path) -> None:
    replay = ReplayFeed(_write(tmp_path / "ok.jsonl.gz", [_header(), SNAPSHOT]), ManualClock(START))
    with pytest.raises(UnknownSymbol, match="no funding for 'BTC'"):
        replay.funding("BTC")
    with pytest.raises(UnknownSymbol, match="no book for 'ETH'"):
        replay.snapshot("ETH")
