"""``merge`` orders events by (ts, stream position, order within the stream), exactly as a heap
of all streams keyed that way would - also for streams that are not in time order, whose
events then come out where such a heap puts them (the replay must not depend on how the
merge is done)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from backtest.sources.funding import merge
from exchange_clients.market_data.events import FundingEvent, MarketEvent
from exchange_clients.types import FundingRate

BASE = datetime(2025, 1, 1, tzinfo=UTC)
ZERO, ONE = Decimal(0), Decimal(1)


def _event(stream: int, index: int, micros: int) -> FundingEvent:
    """An event that says where it came from (symbol "stream:index")."""
    return FundingEvent(
        FundingRate(
            "v", f"{stream}:{index}", ZERO, ONE, None, ts=BASE + timedelta(microseconds=micros)
        )
    )


def _heap_order(streams: Sequence[Sequence[MarketEvent]]) -> list[str]:
    def keyed(
        position: int, stream: Sequence[MarketEvent]
    ) -> Iterator[tuple[datetime, int, int, str]]:
        for n, event in enumerate(stream):
            yield event.ts, position, n, event.symbol

    return [key[3] for key in heapq.merge(*(keyed(p, s) for p, s in enumerate(streams)))]


@pytest.mark.parametrize("seed", range(40))
def test_merge_orders_as_a_heap_keyed_by_time_then_stream(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        streams = []
        for position in range(rng.randint(0, 6)):
            times = [rng.randint(0, 6) for _ in range(rng.randint(0, 8))]
            if rng.random() < 0.7:  # most streams in time order, some not
                times.sort()
            streams.append([_event(position, i, t) for i, t in enumerate(times)])
        merged = [event.symbol for event in merge([iter(s) for s in streams])]
        assert merged == _heap_order(streams)
