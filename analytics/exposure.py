"""Time in the market: the spans during which a position was open, from the fills.

Exposure is the share of the analysed window during which at least one position (of the
group: all, one venue, one symbol) was open. A position still open at the end of the window
counts until the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from analytics.records import FillRecord

Span = tuple[datetime, datetime]
ZERO = Decimal(0)


def open_spans(fills: Iterable[FillRecord], end: datetime) -> dict[tuple[str, str], list[Span]]:
    """Per (venue, symbol): the spans with a non-zero position, the last one cut at ``end``."""
    positions: dict[tuple[str, str], Decimal] = {}
    opened: dict[tuple[str, str], datetime] = {}
    spans: dict[tuple[str, str], list[Span]] = {}
    for fill in sorted(fills, key=lambda f: f.ts):
        key = (fill.venue, fill.symbol)
        before = positions.get(key, ZERO)
        after = before + fill.signed_size
        positions[key] = after
        if before == 0 and after != 0:
            opened[key] = fill.ts
        elif before != 0 and after == 0:
            spans.setdefault(key, []).append((opened.pop(key), fill.ts))
    for key, since in opened.items():
        spans.setdefault(key, []).append((since, max(since, end)))
    return spans


def covered(spans: Iterable[Span], start: datetime, end: datetime) -> timedelta:
    """Length of the union of ``spans`` clipped to ``[start, end]``."""
    total, reach = timedelta(0), start
    for begin, finish in sorted(spans):
        begin, finish = max(begin, reach), min(finish, end)
        if finish > begin:
            total += finish - begin
            reach = finish
    return total


def exposure(
    spans: dict[tuple[str, str], list[Span]],
    start: datetime,
    end: datetime,
    include: Callable[[tuple[str, str]], bool] = lambda _key: True,
) -> float | None:
    """Share of ``[start, end]`` with an open position among the keys ``include`` keeps;
    None when the window has no length."""
    if end <= start:
        return None
    chosen: Sequence[Span] = [s for key, group in spans.items() if include(key) for s in group]
    return covered(chosen, start, end) / (end - start)
