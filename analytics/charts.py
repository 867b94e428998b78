"""PNG charts of an equity curve: equity over time above its drawdown panel.

matplotlib is imported inside the function: a bot that never draws a chart never pays for it
(the lean-imports tests pin what a paper bot loads). The Agg canvas and the object API are
used, not pyplot, whose global state is unsafe from worker threads. Floats only for drawing.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from analytics import equity as eq
from analytics.records import EquityPoint


def equity_png(points: Sequence[EquityPoint], title: str) -> bytes:
    """Equity (top) and drawdown below the running peak (bottom), as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure

    curve = eq.ordered(points)
    figure = Figure(figsize=(9, 5.5), dpi=100)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    if curve:
        times = [date2num(p.ts) for p in curve]  # type: ignore[no-untyped-call]
        top.plot(times, [float(p.equity) for p in curve], linewidth=1.4, color="#1f5fbf")
        falls = [-float(v) for _, v in eq.drawdown_series(curve)]
        bottom.fill_between(times, falls, 0, color="#e8a0a0", edgecolor="#b00")
    else:
        top.text(0.5, 0.5, "no equity points", ha="center", transform=top.transAxes)
    for axes in (top, bottom):
        axes.xaxis_date("UTC")
        axes.grid(alpha=0.3)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    top.set_title(title)
    top.set_ylabel("equity")
    bottom.set_ylabel("drawdown")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_equity_png(path: Path, points: Sequence[EquityPoint], title: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(equity_png(points, title))
    return path
