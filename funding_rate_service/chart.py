"""A pair's funding spread over time and the carry it accumulated: as data, and as a PNG.

Whether a pair is worth holding shows in two lines: the spread (short venue's hourly rate minus
the long venue's, as APR %) bucket by bucket, and the cumulative carry - what one unit of
notional each way would have earned, % of one leg. The data feeds the web dashboard; the PNG
is what Telegram sends.

matplotlib is imported only when a PNG is drawn (it costs ~0.3 s and ~30 MB), with the
non-interactive Agg backend through the object API (``Figure`` + ``FigureCanvasAgg``, no
``pyplot``): no global state, so drawing in a worker thread is safe.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from exchange_clients.types import HOURS_PER_YEAR
from funding_rate_service.api_models import ChartDataView, ChartPointView
from funding_rate_service.history import PairBucket, Resolution, bucketize, pair_series
from funding_rate_service.storage import FundingRecord

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PairChart:
    symbol: str
    long_venue: str
    short_venue: str
    resolution: Resolution
    start: datetime
    end: datetime
    series: list[PairBucket]


def pair_chart(
    symbol: str,
    long_venue: str,
    short_venue: str,
    rows: Mapping[str, Sequence[FundingRecord]],
    resolution: Resolution,
    start: datetime,
    end: datetime,
) -> PairChart:
    """Both venues' rows bucketed and put on one grid (buckets where either is missing are
    left out, see :func:`funding_rate_service.history.pair_series`)."""
    long = bucketize(rows.get(long_venue, ()), resolution)
    short = bucketize(rows.get(short_venue, ()), resolution)
    return PairChart(
        symbol,
        long_venue,
        short_venue,
        resolution,
        start,
        end,
        pair_series(long, short, resolution),
    )


def chart_data(chart: PairChart) -> ChartDataView:
    return ChartDataView(
        symbol=chart.symbol,
        long_venue=chart.long_venue,
        short_venue=chart.short_venue,
        resolution=chart.resolution.value,
        start=chart.start,
        end=chart.end,
        points=[
            ChartPointView(
                start=p.start,
                long_hourly_rate=p.long_rate,
                short_hourly_rate=p.short_rate,
                spread_hourly=p.spread,
                spread_apr_pct=p.spread * HOURS_PER_YEAR * HUNDRED,
                cumulative_carry_pct=p.cumulative_carry * HUNDRED,
            )
            for p in chart.series
        ],
    )


def render_png(chart: PairChart) -> bytes:
    """The chart as PNG bytes: spread APR % (bars) above cumulative carry % (line)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5.5), dpi=100)
    FigureCanvasAgg(figure)
    spread_axes, carry_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    title = (
        f"{chart.symbol}: long {chart.long_venue} / short {chart.short_venue} "
        f"({chart.resolution.value} buckets)"
    )
    spread_axes.set_title(title)
    if not chart.series:
        spread_axes.text(
            0.5, 0.5, "no overlapping history", ha="center", va="center",
            transform=spread_axes.transAxes,
        )  # fmt: skip
    else:
        times = [p.start for p in chart.series]
        spreads = [float(p.spread * HOURS_PER_YEAR * HUNDRED) for p in chart.series]
        carry = [float(p.cumulative_carry * HUNDRED) for p in chart.series]
        width = chart.resolution.delta.total_seconds() / 86400 * 0.9
        colours = ["tab:green" if s >= 0 else "tab:red" for s in spreads]
        spread_axes.bar(times, spreads, width=width, color=colours, align="edge")
        carry_axes.plot(times, carry, color="tab:blue")
        carry_axes.fill_between(times, carry, alpha=0.15, color="tab:blue")
    spread_axes.axhline(0, color="grey", linewidth=0.8)
    carry_axes.axhline(0, color="grey", linewidth=0.8)
    spread_axes.set_ylabel("spread, APR %")
    carry_axes.set_ylabel("cumulative carry, %")
    carry_axes.set_xlabel("UTC")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
