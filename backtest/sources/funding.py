"""Funding history (rows of "rate R was charged at time T") as market events.

The strategy must not see a rate before the market could: the rate charged at ``T`` is
published ``1 us`` before ``T`` (so the settlement at ``T`` charges it) and stays the
venue's "current" rate until the next one is; before the first, the rate is 0.

Funding-only data has no order book, so one is drawn around each row's mark price: a
``spread_bps`` wide touch and ``levels`` levels a side of ``depth_usd`` each, replaced at each
funding time by the next row's mark. The result states it (``notes``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from exchange_clients.market_data.events import (
    BookSnapshotEvent,
    FundingEvent,
    Level,
    MarketEvent,
)
from exchange_clients.types import FundingRate, Market

MICROSECOND = timedelta(microseconds=1)
DEFAULT_SPREAD_BPS = Decimal(2)
DEFAULT_DEPTH_USD = Decimal(250_000)
BOOK_LEVELS = 5
_BPS_HALVED = Decimal(20_000)  # half the spread: bps / 10,000 / 2


@dataclass(frozen=True, slots=True)
class FundingRow:
    funding_time: datetime
    rate: Decimal
    interval_hours: Decimal
    mark_price: Decimal | None


@dataclass(frozen=True, slots=True)
class BookShape:
    spread_bps: Decimal = DEFAULT_SPREAD_BPS
    depth_usd: Decimal = DEFAULT_DEPTH_USD

    def note(self) -> str:
        return (
            f"order books drawn around each funding row's mark price: {self.spread_bps} bps "
            f"touch, {BOOK_LEVELS} levels a side of {self.depth_usd} USD"
        )


def market_for(symbol: str, price: Decimal) -> Market:
    """A listing for data that has none: ~6 significant digits of price, ~10 USD size steps."""
    magnitude = math.floor(math.log10(price)) if price > 0 else 0
    tick = Decimal(1).scaleb(magnitude - 5)
    step_exp = min(0, math.floor(math.log10(10 / float(price)))) if price > 0 else 0
    step = Decimal(1).scaleb(step_exp)
    return Market(
        symbol=symbol,
        contract_id=symbol,
        tick_size=tick,
        step_size=step,
        min_size=step,
        min_notional=Decimal(0),
        max_leverage=Decimal(20),
    )


def drawn_book(
    venue: str, market: Market, ts: datetime, mark: Decimal, shape: BookShape
) -> BookSnapshotEvent:
    tick, step = market.tick_size, market.step_size
    half = mark * shape.spread_bps / _BPS_HALVED
    twice = 2 * half
    size: Decimal | None = None  # the same on every level: worked out once, if a level fits
    bids: list[Level] = []
    asks: list[Level] = []
    for i in range(BOOK_LEVELS):
        offset = half + twice * i
        bid = ((mark - offset) / tick).to_integral_value(ROUND_FLOOR) * tick
        ask = ((mark + offset) / tick).to_integral_value(ROUND_CEILING) * tick
        if bids and bid >= bids[-1][0]:
            bid = bids[-1][0] - tick
        if asks and ask <= asks[-1][0]:
            ask = asks[-1][0] + tick
        if bid <= 0:
            break
        if size is None:
            size = max(step, (shape.depth_usd / mark / step).to_integral_value(ROUND_DOWN) * step)
        bids.append((bid, size))
        asks.append((ask, size))
    return BookSnapshotEvent(
        venue=venue,
        symbol=market.symbol,
        ts=ts,
        bids=tuple(bids),
        asks=tuple(asks),
        sequence=int(ts.timestamp() * 1_000_000),
    )


def funding_events(
    venue: str,
    market: Market,
    rows: Sequence[FundingRow],
    shape: BookShape | None,
) -> Iterator[MarketEvent]:
    """Events of one symbol, in time order. ``shape`` None: the data has its own books."""
    symbol = market.symbol
    intervals: dict[Decimal, timedelta] = {}
    for index, row in enumerate(rows):
        mark, rate, hours, funding_time = (
            row.mark_price,
            row.rate,
            row.interval_hours,
            row.funding_time,
        )
        interval = intervals.get(hours)
        if interval is None:
            interval = intervals[hours] = timedelta(hours=float(hours))
        if shape is not None and index == 0 and mark is not None:
            yield drawn_book(venue, market, funding_time - interval, mark, shape)
        yield FundingEvent(
            FundingRate(
                venue=venue,
                symbol=symbol,
                rate=rate,
                interval_hours=hours,
                next_funding_time=funding_time,
                predicted_rate=rate,
                mark_price=mark,
                ts=funding_time - MICROSECOND,
            )
        )
        if shape is not None and mark is not None:
            yield drawn_book(venue, market, funding_time, mark, shape)
        yield FundingEvent(
            FundingRate(
                venue=venue,
                symbol=symbol,
                rate=rate,
                interval_hours=hours,
                next_funding_time=funding_time + interval,
                mark_price=mark,
                ts=funding_time + MICROSECOND,
            )
        )


def merge(streams: Sequence[Iterator[MarketEvent]]) -> Iterator[MarketEvent]:
    """Several time-ordered streams as one, ties in the order of ``streams`` (deterministic):
    events ordered by (ts, stream position, order within the stream).

    Funding data stamps every symbol's events with the same few times, so the streams are
    grouped by the time of their next event (one bucket per time, the times in a heap)
    instead of each event going through a heap of all streams: about half the cost."""
    iterators = [iter(stream) for stream in streams]
    heads: dict[int, MarketEvent] = {}
    waiting: dict[datetime, list[int]] = {}  # time -> streams whose next event has it
    times: list[datetime] = []  # heap of the keys of ``waiting``

    def wait(position: int, event: MarketEvent) -> None:
        heads[position] = event
        ts = event.ts
        bucket = waiting.get(ts)
        if bucket is None:
            waiting[ts] = [position]
            heapq.heappush(times, ts)
        else:
            bucket.append(position)

    for position, iterator in enumerate(iterators):
        first = next(iterator, None)
        if first is not None:
            wait(position, first)
    while times:
        ts = heapq.heappop(times)
        positions = waiting.pop(ts)
        positions.sort()
        for position in positions:
            event: MarketEvent | None = heads.pop(position)
            iterator = iterators[position]
            while event is not None:
                yield event
                event = next(iterator, None)
                # Its next event goes on now if nothing can come before it: stamped at this
                # time (it precedes the later streams) or, out of order, earlier.
                if event is not None and event.ts > ts:
                    wait(position, event)
                    break
