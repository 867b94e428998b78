"""Equity charts as PNG bytes, drawn with matplotlib's Agg backend (no display, no pyplot).

Floats appear only here, for drawing: the numbers in messages stay Decimal. Figures are built
with the object API (``Figure`` + ``FigureCanvasAgg``), not ``pyplot``, whose global state is
not safe to use from the worker thread :func:`render_equity_chart` runs in.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

Series = Sequence[tuple[datetime, Decimal]]


def equity_chart_png(series: Mapping[str, Series], title: str) -> bytes:
    """One line per name in ``series`` (time, equity), as a PNG."""
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, points in series.items():
        if not points:
            continue
        # Matplotlib's date axis takes day numbers; floats are fine for drawing.
        times = [date2num(ts) for ts, _ in points]  # type: ignore[no-untyped-call]
        values = [float(value) for _, value in points]
        axes.plot(times, values, label=name, linewidth=1.5, marker="." if len(points) < 30 else "")
    axes.xaxis_date("UTC")
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.set_title(title)
    axes.set_ylabel("equity (USD)")
    axes.grid(True, alpha=0.3)
    if len(series) > 1:
        axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def render_equity_chart(series: Mapping[str, Series], title: str) -> bytes:
    """:func:`equity_chart_png` in a worker thread (drawing takes tens of milliseconds)."""
    return await asyncio.to_thread(equity_chart_png, series, title)
