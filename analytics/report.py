"""A self-contained HTML report of a :class:`~analytics.performance.Performance`.

One file, opened by path: the equity curve and its drawdown panel are inline SVG drawn here
(no script, no stylesheet or font fetched from anywhere), followed by the metric table, the
breakdowns per venue and symbol, the monthly returns and the trade list. Everything shown is
escaped. PNG charts for other uses are in :mod:`analytics.charts`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from analytics import equity as eq
from analytics.performance import Breakdown, Performance
from analytics.records import EquityPoint

WIDTH, EQUITY_HEIGHT, DRAWDOWN_HEIGHT, PAD = 860, 260, 120, 48

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 24px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.neg{color:#b00}.pos{color:#070}.note{color:#777;font-size:90%}
svg{background:#fafafa;border:1px solid #ddd;display:block;margin-bottom:6px}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    hours, rest = divmod(int(value.total_seconds()), 3600)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


def metric_rows(perf: Performance) -> list[tuple[str, str, str]]:
    """(name, value, note) for the metric table; the note says why a value is missing."""
    a, t = perf.attribution, perf.trades
    notes = {**t.notes, **perf.notes}
    rows = [
        ("Net PnL", money(a.net), ""),
        ("  trading (closed trades, gross)", money(a.trading), ""),
        ("  unrealized (open lots at marks)", money(a.unrealized), notes.get("unrealized", "")),
        ("  fees paid", money(a.fees), ""),
        ("  funding received", money(a.funding), ""),
        ("Starting equity", money(perf.starting_equity), ""),
        ("Ending equity", money(perf.ending_equity), ""),
        ("Return", pct(perf.total_return), notes.get("total_return", "")),
        ("Sharpe (annualised)", ratio(perf.sharpe), notes.get("sharpe", "")),
        ("Sortino (annualised)", ratio(perf.sortino), notes.get("sortino", "")),
        ("Max drawdown", money(perf.max_drawdown), ""),
        ("Max drawdown %", pct(perf.max_drawdown_pct), notes.get("max_drawdown_pct", "")),
        (
            "Longest drawdown",
            duration(perf.max_drawdown_duration),
            "" if perf.drawdown_recovered else "not recovered by the end",
        ),
        ("Trades (closed)", str(t.trades), ""),
        ("Win rate", pct(t.win_rate), notes.get("win_rate", "")),
        ("Profit factor", ratio(t.profit_factor), notes.get("profit_factor", "")),
        ("Expectancy per trade", money(t.expectancy), notes.get("expectancy", "")),
        ("Average hold", duration(t.average_hold), notes.get("average_hold", "")),
        ("Exposure (time in market)", pct(perf.exposure), notes.get("exposure", "")),
        ("Turnover (notional)", money(perf.turnover), ""),
        ("Turnover / mean equity", ratio(perf.turnover_ratio), notes.get("turnover_ratio", "")),
        ("Fills", str(perf.fills), ""),
    ]
    return rows


def _scale(values: Sequence[float], low: float, high: float, top: int, height: int) -> list[float]:
    span = (high - low) or 1.0
    return [top + height - (v - low) / span * height for v in values]


def _x(times: Sequence[datetime]) -> list[float]:
    first, last = times[0], times[-1]
    span = (last - first).total_seconds() or 1.0
    return [PAD + (t - first).total_seconds() / span * (WIDTH - 2 * PAD) for t in times]


def equity_svg(points: Sequence[EquityPoint]) -> str:
    """The equity line over time, with its min/max and first/last dates labelled."""
    curve = eq.ordered(points)
    if len(curve) < 2:
        return '<p class="note">No equity curve: fewer than two equity points.</p>'
    values = [float(p.equity) for p in curve]
    low, high = min(values), max(values)
    xs = _x([p.ts for p in curve])
    ys = _scale(values, low, high, 16, EQUITY_HEIGHT - 40)
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{EQUITY_HEIGHT}" '
        f'role="img" aria-label="equity curve">'
        f'<polyline fill="none" stroke="#1f5fbf" stroke-width="1.5" points="{line}"/>'
        f'<text x="4" y="20" font-size="11">{_e(money(max(p.equity for p in curve)))}</text>'
        f'<text x="4" y="{EQUITY_HEIGHT - 26}" font-size="11">'
        f"{_e(money(min(p.equity for p in curve)))}</text>"
        f'<text x="{PAD}" y="{EQUITY_HEIGHT - 6}" font-size="11">'
        f"{_e(curve[0].ts.strftime('%Y-%m-%d %H:%M'))}</text>"
        f'<text x="{WIDTH - PAD}" y="{EQUITY_HEIGHT - 6}" font-size="11" text-anchor="end">'
        f"{_e(curve[-1].ts.strftime('%Y-%m-%d %H:%M'))} UTC</text>"
        "</svg>"
    )


def drawdown_svg(points: Sequence[EquityPoint]) -> str:
    """The fall below the running peak, as a filled area hanging from the top edge."""
    series = eq.drawdown_series(points)
    if len(series) < 2:
        return ""
    deepest = max(float(v) for _, v in series) or 1.0
    xs = _x([ts for ts, _ in series])
    ys = [8 + float(v) / deepest * (DRAWDOWN_HEIGHT - 24) for _, v in series]
    area = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{DRAWDOWN_HEIGHT}" '
        f'role="img" aria-label="drawdown">'
        f'<polygon fill="#e8a0a0" stroke="#b00" stroke-width="1" '
        f'points="{xs[0]:.1f},8 {area} {xs[-1]:.1f},8"/>'
        f'<text x="4" y="{DRAWDOWN_HEIGHT - 6}" font-size="11">drawdown, deepest '
        f"{_e(money(max(v for _, v in series)))}</text>"
        "</svg>"
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(
            f'<{tag} class="l">{_e(c)}</{tag}>' if i < left else f"<{tag}>{_e(c)}</{tag}>"
            for i, c in enumerate(row)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><tr>{cells('th', head)}</tr>{body}</table>"


def _breakdown_rows(groups: dict[str, Breakdown]) -> list[list[str]]:
    return [
        [
            name,
            money(g.attribution.net),
            money(g.attribution.trading),
            money(g.attribution.unrealized),
            money(g.attribution.fees),
            money(g.attribution.funding),
            str(g.trades.trades),
            pct(g.trades.win_rate),
            money(g.turnover),
            pct(g.exposure),
        ]
        for name, g in groups.items()
    ]


BREAKDOWN_HEAD = ["", "net", "trading", "unrealized", "fees", "funding", "trades", "win rate",
                  "turnover", "exposure"]  # fmt: skip


TRADE_HEAD = ["closed (UTC)", "venue", "symbol", "side", "size", "entry", "exit", "gross", "fees",
              "net", "held"]  # fmt: skip


def render_html(perf: Performance, equity: Sequence[EquityPoint], title: str) -> str:
    """The whole report as one HTML document."""
    window = (
        f"{perf.start:%Y-%m-%d %H:%M} - {perf.end:%Y-%m-%d %H:%M} UTC"
        if perf.start and perf.end
        else "no records"
    )
    months = [
        [month, "-" if isinstance(r, eq.Unavailable) else pct(r)]
        for month, r in eq.monthly_returns(equity)
    ]
    trades = [
        [
            f"{t.closed_at:%Y-%m-%d %H:%M:%S}",
            t.venue,
            t.symbol,
            t.direction,
            f"{t.size}",
            f"{t.entry_price}",
            f"{t.exit_price}",
            money(t.gross_pnl),
            money(t.fees),
            money(t.net_pnl),
            duration(t.hold),
        ]
        for t in perf.trade_list
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(window)}. Sharpe/Sortino: {_e(perf.sampling)}.</p>",
        "<h2>Equity</h2>",
        equity_svg(equity),
        drawdown_svg(equity),
        "<h2>Metrics</h2>",
        _table(["metric", "value", "note"], metric_rows(perf)),
        "<h2>Per venue</h2>",
        _table(BREAKDOWN_HEAD, _breakdown_rows(perf.per_venue)),
        "<h2>Per symbol</h2>",
        _table(BREAKDOWN_HEAD, _breakdown_rows(perf.per_symbol)),
        "<h2>Monthly returns</h2>",
        _table(["month", "return"], months) if months else '<p class="note">No equity points.</p>',
        f"<h2>Trades ({len(trades)})</h2>",
        _table(
            TRADE_HEAD,
            trades,
            left=4,
        )
        if trades
        else '<p class="note">No closed trades.</p>',
        "</body></html>",
    ]
    return "\n".join(parts)


def write_html(path: Path, perf: Performance, equity: Sequence[EquityPoint], title: str) -> Path:
    """Write the report to ``path`` (parents created) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(perf, equity, title), encoding="utf-8")
    return path
