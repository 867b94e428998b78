"""The HTML of every page, rendered on the server: the first paint needs no script.

Everything interpolated goes through :func:`e` (HTML-escaped). Charts are inline SVG drawn by
:mod:`analytics.report` (equity, drawdown) and here (overlaid curves, the funding heatmap).
The one script (``/static/dashboard.js``) adds live updates and the control buttons.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from analytics.records import EquityPoint
from analytics.report import drawdown_svg, equity_svg
from core.redaction import redact
from dashboard.auth import User
from dashboard.data import BotDetail, BotRow, Comparison
from dashboard.records import BacktestReport, SignalStrategyRow
from dashboard.roles import Role
from database.models.backtest import BacktestRun
from database.models.signals import SignalRecord

PALETTE = ("#1f5fbf", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def signed(value: Decimal | None) -> str:
    if value is None:
        return "-"
    cls = "pos" if value > 0 else "neg" if value < 0 else ""
    return f'<span class="{cls}">{value:+,.2f}</span>'


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def ago(at: datetime | None) -> str:
    if at is None:
        return "-"
    seconds = max(0, int((datetime.now(UTC) - at).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    body_id: str = "",
    row_keys: Sequence[str] = (),
) -> str:
    """``rows`` cells are HTML already (escape what they hold); ``row_keys`` become each
    row's ``data-bot`` (how the script finds a bot's row for live updates)."""
    heads = "".join(f"<th>{e(h)}</th>" for h in head)
    keys = list(row_keys)
    body = "".join(
        (f'<tr data-bot="{e(keys[i])}">' if i < len(keys) else "<tr>")
        + "".join(f"<td>{c}</td>" for c in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    tbody = f'<tbody id="{e(body_id)}">' if body_id else "<tbody>"
    return f"<table><thead><tr>{heads}</tr></thead>{tbody}{body}</tbody></table>"


def layout(title: str, body: str, user: User | None, *, page: str = "", data: str = "") -> str:
    nav = ""
    if user is not None:
        nav = (
            '<nav><a href="/">Fleet</a> <a href="/compare">Compare</a> '
            '<a href="/funding">Funding</a> <a href="/signals">Signals</a> '
            '<a href="/backtests">Backtests</a>'
            + (' <a href="/audit">Audit</a>' if user.role >= Role.ADMIN else "")
            + f'<span class="who">{e(user.name)} ({e(user.role.label)})'
            f'<form method="post" action="/logout" class="inline">'
            f'<input type="hidden" name="csrf" value="{e(user.csrf_token)}">'
            '<button type="submit">Log out</button></form></span></nav>'
        )
    csrf = f'<meta name="csrf-token" content="{e(user.csrf_token)}">' if user else ""
    role = f'<meta name="role" content="{e(user.role.label)}">' if user else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{e(title)} - perpfleet</title>{csrf}{role}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/dashboard.css">'
        f'<script src="/static/dashboard.js" defer></script></head>'
        f'<body data-page="{e(page)}" {data}>{nav}<div id="message" role="status"></div>'
        f"<main><h1>{e(title)}</h1>{body}</main></body></html>"
    )


def login_page(csrf: str, error: str = "") -> str:
    problem = f'<p class="error">{e(error)}</p>' if error else ""
    body = (
        f'{problem}<form method="post" action="/login" class="login">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        '<label>Name <input name="name" autocomplete="username" required></label>'
        '<label>Password <input name="password" type="password" '
        'autocomplete="current-password" required></label>'
        '<button type="submit">Log in</button></form>'
    )
    return layout("Log in", body, None, page="login")


def _controls(user: User, name: str, running: bool) -> str:
    """The buttons this user's role allows (the server checks again on every POST)."""
    buttons = []
    if user.role >= Role.TRADER and running:
        buttons += [
            '<button data-action="pause">Pause</button>',
            '<button data-action="resume">Resume</button>',
            '<button data-action="stop">Stop</button>',
        ]
    if user.role >= Role.ADMIN:
        if running:
            buttons.append('<button data-action="kill" class="danger">Kill</button>')
        buttons.append('<button data-action="reset-kill">Reset kill switch</button>')
    if not buttons:
        return '<p class="note">Controls need the trader role.</p>'
    return f'<div class="controls" data-bot="{e(name)}">{"".join(buttons)}</div>'


def overview_page(
    user: User,
    rows: list[BotRow],
    guard: str,
    funding_ok: bool,
    configs: list[str],
) -> str:
    cells = []
    for row in rows:
        info, status = row.info, row.status
        positions = len(row.positions) if status is not None else "-"
        cells.append(
            (
                f'<a href="/bots/{e(info.name)}">{e(info.name)}</a>',
                f'<span class="state" data-field="state">'
                f"{e(status.state if status else info.display_state)}</span>",
                e(info.strategy or "-"),
                e(", ".join(status.venues) if status else "-"),
                f'<span data-field="equity">{money(status.equity if status else None)}</span>',
                f'<span data-field="today">{signed(row.today)}</span>',
                f'<span data-field="net">{signed(row.pnl.net if row.pnl else None)}</span>',
                f'<span data-field="positions">{e(positions)}</span>',
                e(ago(row.heartbeat)),
                '<span class="alerts">' + "<br>".join(e(a) for a in row.alerts) + "</span>",
            )
        )
    body = table(
        (
            "Bot",
            "State",
            "Strategy",
            "Venues",
            "Equity",
            "Today",
            "PnL",
            "Positions",
            "Heartbeat",
            "Alerts",
        ),
        cells,
        body_id="fleet",
        row_keys=[row.info.name for row in rows],
    )
    health = "up" if funding_ok else "unreachable"
    body += (
        f'<h2>Fleet guard</h2><pre class="guard">{e(guard)}</pre>'
        f"<h2>Funding-rate service</h2><p>{e(health)}</p>"
    )
    if user.role >= Role.TRADER and configs:
        options = "".join(f'<option value="{e(c)}">{e(c)}</option>' for c in configs)
        body += (
            '<h2>Launch a bot</h2><form id="launch" class="inline">'
            f'<select name="config">{options}</select> '
            '<input name="account" placeholder="account (optional)"> '
            '<button type="submit">Launch</button></form>'
        )
    return layout("Fleet", body, user, page="overview")


def _price(value: Decimal | None) -> str:
    """A derived price (liquidation) to 8 significant digits: the venue's own are exact."""
    return "-" if value is None else e(f"{value:.8g}" if abs(value) < 10**8 else f"{value:.0f}")


def _liquidation_distance(mark: Decimal, liquidation: Decimal | None) -> str:
    if liquidation is None or mark == 0:
        return "-"
    return f"{abs(mark - liquidation) / mark * 100:.1f}%"


def bot_page(user: User, d: BotDetail, *, symbol: str = "", venue: str = "", page: int = 1) -> str:
    name = d.info.name
    status = d.status
    state = status.state if status else d.info.display_state
    head = (
        f'<p>State <b id="state">{e(state)}</b> <span id="live" class="live">connecting'
        f"</span> - strategy {e(d.info.strategy or '-')}"
        + (f" - venues {e(', '.join(status.venues))}" if status else "")
        + (f' - equity <b id="equity">{money(status.equity)}</b>' if status else "")
        + (f' - PnL <b id="net">{signed(d.pnl.net)}</b>' if d.pnl else "")
        + "</p>"
    )
    if d.error:
        head += f'<p class="error">{e(d.error)}</p>'
    if status is not None and status.risk.killed:
        head += f'<p class="error">Kill switch engaged: {e(status.risk.kill_reason or "")}</p>'
    body = head + _controls(user, name, d.info.running)
    body += "<h2>Equity</h2>" + equity_svg(d.equity) + drawdown_svg(d.equity)
    close = user.role >= Role.TRADER
    body += "<h2>Positions</h2>" + table(
        (
            "Venue",
            "Symbol",
            "Side",
            "Size",
            "Entry",
            "Mark",
            "Liq.",
            "Liq. distance",
            "Unrealized",
            "Funding",
            "",
        )
        if close
        else (
            "Venue",
            "Symbol",
            "Side",
            "Size",
            "Entry",
            "Mark",
            "Liq.",
            "Liq. distance",
            "Unrealized",
            "Funding",
        ),
        [
            (
                e(p.venue),
                e(p.symbol),
                e(p.side),
                e(p.size),
                e(p.entry_price),
                e(p.mark_price),
                _price(p.liquidation_price),
                _liquidation_distance(p.mark_price, p.liquidation_price),
                signed(p.unrealized_pnl),
                signed(p.accrued_funding),
            )
            + ((f'<button data-close="{e(p.id)}">Close</button>',) if close else ())
            for p in d.positions
        ],
        body_id="positions",
    )
    body += "<h2>Open orders</h2>" + table(
        ("Client id", "Venue", "Symbol", "Side", "Type", "Size", "Filled", "Price", "Status"),
        [
            (
                e(o.client_order_id),
                e(o.venue),
                e(o.symbol),
                e(o.side),
                e(o.type),
                e(o.size),
                e(o.filled_size),
                e(o.price or "-"),
                e(o.status),
            )
            for o in d.orders
        ],
    )
    body += "<h2>Live fills</h2>" + table(
        ("Time", "Venue", "Symbol", "Side", "Size", "Price", "Fee"), [], body_id="live-fills"
    )
    body += _trades(d, symbol=symbol, venue=venue, page=page)
    if d.stats is not None:
        body += "<h2>Performance</h2>" + _stats_table(d)
    body += f"<h2>Log</h2><pre class=log>{e(d.logs)}</pre>"
    if d.config is not None:
        shown = json.dumps(redact(d.config), indent=1, default=str)
        body += f"<h2>Config</h2><pre class=config>{e(shown)}</pre>"
    return layout(name, body, user, page="bot", data=f'data-bot="{e(name)}"')


def _trades(d: BotDetail, *, symbol: str, venue: str, page: int) -> str:
    if d.trades is None:
        return ""
    shown = [
        t
        for t in d.trades.trades
        if (not symbol or t.symbol == symbol) and (not venue or t.venue == venue)
    ]
    pager = f"page {d.trades.page} of {max(d.trades.pages, 1)} ({d.trades.total} trades)"
    links = []
    query = f"&symbol={e(symbol)}&venue={e(venue)}"
    if page > 1:
        links.append(f'<a href="?page={page - 1}{query}">newer</a>')
    if page < d.trades.pages:
        links.append(f'<a href="?page={page + 1}{query}">older</a>')
    filters = (
        '<form method="get" class="inline">'
        f'<input name="symbol" placeholder="symbol" value="{e(symbol)}"> '
        f'<input name="venue" placeholder="venue" value="{e(venue)}"> '
        '<button type="submit">Filter</button></form>'
    )
    rows = [
        (
            e(f"{t.closed_at:%Y-%m-%d %H:%M:%S}"),
            e(t.venue),
            e(t.symbol),
            e(t.direction),
            e(t.size),
            e(t.entry_price),
            e(t.exit_price),
            signed(t.net_pnl),
            e(f"{t.hold_seconds:.0f} s"),
        )
        for t in shown
    ]
    return f"<h2>Trades</h2><p>{pager} {' '.join(links)}</p>{filters}" + table(
        ("Closed", "Venue", "Symbol", "Dir.", "Size", "Entry", "Exit", "Net", "Hold"), rows
    )


def _stats_table(d: BotDetail) -> str:
    s = d.stats
    assert s is not None
    rows = [
        ("Net PnL", signed(s.pnl.net)),
        ("Trading", signed(s.pnl.trading)),
        ("Fees", money(s.pnl.fees)),
        ("Funding", signed(s.pnl.funding)),
        ("Total return", pct(s.total_return)),
        ("Sharpe", num(s.sharpe)),
        ("Sortino", num(s.sortino)),
        ("Max drawdown", f"{money(s.max_drawdown)} ({pct(s.max_drawdown_pct)})"),
        ("Trades", e(s.trades.trades)),
        ("Win rate", pct(s.trades.win_rate)),
        ("Profit factor", num(s.trades.profit_factor)),
        ("Expectancy", money(s.trades.expectancy)),
        (
            "Average hold",
            "-"
            if s.trades.average_hold_seconds is None
            else e(f"{s.trades.average_hold_seconds:.0f} s"),
        ),
        ("Turnover", money(s.turnover)),
        ("Exposure", pct(s.exposure)),
    ]
    notes = {**s.trades.notes, **s.notes}
    extra = "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in notes.items())
    return table(("Metric", "Value"), rows) + (f'<ul class="note">{extra}</ul>' if extra else "")


def overlay_svg(curves: Sequence[tuple[str, Sequence[EquityPoint]]]) -> str:
    """Each curve as its return since its first point, on one time axis."""
    usable = [(n, sorted(c, key=lambda p: p.ts)) for n, c in curves if len(c) >= 2]
    usable = [(n, c) for n, c in usable if c[0].equity != 0]
    if not usable:
        return '<p class="note">No equity curves with two points yet.</p>'
    width, height, pad = 860, 260, 40
    start = min(c[0].ts for _, c in usable)
    end = max(c[-1].ts for _, c in usable)
    span = (end - start).total_seconds() or 1.0
    series = [(n, [(p.ts, float(p.equity / c[0].equity - 1)) for p in c]) for n, c in usable]
    low = min(v for _, s in series for _, v in s)
    high = max(v for _, s in series for _, v in s)
    rng = (high - low) or 1.0
    parts = []
    for i, (n, s) in enumerate(series):
        points = " ".join(
            f"{pad + (t - start).total_seconds() / span * (width - 2 * pad):.1f},"
            f"{10 + (high - v) / rng * (height - 40):.1f}"
            for t, v in s
        )
        color = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}">'
            f"<title>{e(n)}</title></polyline>"
            f'<text x="{width - pad}" y="{14 + 14 * i}" font-size="11" fill="{color}" '
            f'text-anchor="end">{e(n)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="equity curves">{"".join(parts)}'
        f'<text x="4" y="20" font-size="11">{high * 100:+.2f}%</text>'
        f'<text x="4" y="{height - 30}" font-size="11">{low * 100:+.2f}%</text></svg>'
    )


def compare_page(
    user: User, items: list[Comparison], signal_rows: list[SignalStrategyRow] | None = None
) -> str:
    rows = []
    for c in items:
        s = c.stats
        rows.append(
            (
                f'<a href="/bots/{e(c.name)}">{e(c.name)}</a>',
                e(c.strategy or "-"),
                _sortable(s.total_return if s else None, pct),
                _sortable(s.sharpe if s else None, num),
                _sortable(s.sortino if s else None, num),
                _sortable(s.max_drawdown_pct if s else None, pct),
                _sortable(s.trades.win_rate if s else None, pct),
                _sortable(s.trades.profit_factor if s else None, num),
                _sortable(float(s.trades.expectancy) if s and s.trades.expectancy else None, num),
                _sortable(
                    s.trades.average_hold_seconds if s else None,
                    lambda v: "-" if v is None else f"{v:.0f} s",
                ),
                e(c.error or ""),
            )
        )
    body = table(
        (
            "Bot",
            "Strategy",
            "Return",
            "Sharpe",
            "Sortino",
            "Max DD",
            "Win rate",
            "Profit factor",
            "Expectancy",
            "Avg hold",
            "Note",
        ),
        rows,
        body_id="compare",
    ).replace("<table>", '<table class="sortable">', 1)
    body += "<h2>Equity curves (return since the first point)</h2>"
    body += overlay_svg([(c.name, c.equity) for c in items])
    if signal_rows:
        body += "<h2>Signal strategies (closed signal trades, all bots)</h2>" + table(
            ("Strategy", "Trades", "Win rate", "Net PnL", "Expectancy", "Open"),
            [
                (
                    e(r.strategy),
                    e(r.trades),
                    _sortable(r.win_rate, pct),
                    signed(r.net),
                    money(r.expectancy),
                    e(r.open_trades),
                )
                for r in signal_rows
            ],
            body_id="signal-strategies",
        ).replace("<table>", '<table class="sortable">', 1)
    return layout("Strategy comparison", body, user, page="compare")


def _sortable(value: float | None, fmt: Any) -> str:
    key = "" if value is None else f"{value:.10g}"
    return f'<span data-sort="{e(key)}">{fmt(value)}</span>'


def _heat(value: Decimal, scale: Decimal) -> str:
    share = float(min(abs(value) / scale, Decimal(1))) if scale else 0.0
    alpha = f"{0.15 + 0.85 * share:.2f}"
    color = f"rgba(39,174,96,{alpha})" if value >= 0 else f"rgba(192,57,43,{alpha})"
    return f'style="background:{color}"'


def _pair_query(opportunity: dict[str, Any]) -> str:
    return urlencode(
        {
            "symbol": opportunity["symbol"],
            "long": opportunity["long_venue"],
            "short": opportunity["short_venue"],
        }
    )


def _apr(value: Any) -> str:
    return "-" if value is None else e(f"{Decimal(str(value)):.2f}")


def funding_page(
    user: User, rates: list[dict[str, Any]], opportunities: dict[str, Any] | None, error: str
) -> str:
    body = f'<p class="error">{e(error)}</p>' if error else ""
    venues = sorted({r["venue"] for r in rates})
    symbols = sorted({r["symbol"] for r in rates})
    apr = {(r["venue"], r["symbol"]): Decimal(str(r["apr_pct"])) for r in rates}
    scale = max((abs(v) for v in apr.values()), default=Decimal(0))
    if rates:
        head = "".join(f"<th>{e(v)}</th>" for v in venues)
        lines = []
        for symbol in symbols:
            cells = "".join(
                f"<td {_heat(apr[(v, symbol)], scale)}>{apr[(v, symbol)]:.2f}</td>"
                if (v, symbol) in apr
                else "<td></td>"
                for v in venues
            )
            lines.append(f"<tr><th>{e(symbol)}</th>{cells}</tr>")
        body += (
            "<h2>Heatmap (APR %, no compounding)</h2>"
            f'<table class="heatmap"><thead><tr><th></th>{head}</tr></thead>'
            f"<tbody>{''.join(lines)}</tbody></table>"
        )
        body += "<h2>Latest rates</h2>" + table(
            ("Venue", "Symbol", "Rate", "Interval h", "APR %", "Predicted", "Next funding"),
            [
                (
                    e(r["venue"]),
                    e(r["symbol"]),
                    e(r["rate"]),
                    e(r["interval_hours"]),
                    e(f"{Decimal(str(r['apr_pct'])):.2f}"),
                    e(r.get("predicted_rate") or "-"),
                    e(r.get("next_funding_time") or "-"),
                )
                for r in sorted(rates, key=lambda r: (r["symbol"], r["venue"]))
            ],
        )
    if opportunities is not None:
        body += "<h2>Opportunities</h2>" + table(
            ("Symbol", "Long", "Short", "Gross APR %", "Net APR %"),
            [
                (
                    f'<a href="/funding/spread?{e(_pair_query(o))}">{e(o["symbol"])}</a>',
                    e(o["long_venue"]),
                    e(o["short_venue"]),
                    _apr(o.get("gross_apr_pct")),
                    _apr(o.get("net_apr_pct")),
                )
                for o in opportunities.get("opportunities", [])
            ],
        )
    return layout("Funding", body, user, page="funding")


def series_svg(points: Sequence[tuple[datetime, float]], label: str, color: str) -> str:
    """One line over time with its range labelled (a float series: display only)."""
    if len(points) < 2:
        return f'<p class="note">{e(label)}: fewer than two points.</p>'
    width, height, pad = 860, 200, 48
    start, end = points[0][0], points[-1][0]
    span = (end - start).total_seconds() or 1.0
    low, high = min(v for _, v in points), max(v for _, v in points)
    rng = (high - low) or 1.0
    line = " ".join(
        f"{pad + (t - start).total_seconds() / span * (width - 2 * pad):.1f},"
        f"{10 + (high - v) / rng * (height - 40):.1f}"
        for t, v in points
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{e(label)}"><polyline fill="none" stroke="{color}" '
        f'stroke-width="1.5" points="{line}"/>'
        f'<text x="4" y="20" font-size="11">{high:.2f}</text>'
        f'<text x="4" y="{height - 30}" font-size="11">{low:.2f}</text>'
        f'<text x="{width / 2}" y="{height - 6}" font-size="11" text-anchor="middle">'
        f"{e(label)}</text></svg>"
    )


def spread_page(user: User, chart: dict[str, Any] | None, title: str, error: str) -> str:
    body = f'<p class="error">{e(error)}</p>' if error else ""
    if chart is not None:
        points = [
            (
                datetime.fromisoformat(p["start"]),
                float(p["spread_apr_pct"]),
                float(p["cumulative_carry_pct"]),
            )
            for p in chart.get("points", [])
        ]
        body += series_svg([(t, v) for t, v, _ in points], "spread APR %", PALETTE[0])
        body += series_svg([(t, c) for t, _, c in points], "cumulative carry %", PALETTE[2])
    body += '<p><a href="/funding">back to funding</a></p>'
    return layout(title, body, user, page="spread")


def signals_page(user: User, rows: list[SignalRecord], bot: str) -> str:
    filters = (
        '<form method="get" class="inline">'
        f'<input name="bot" placeholder="bot" value="{e(bot)}"> '
        '<button type="submit">Filter</button></form>'
    )
    body = filters + table(
        (
            "Time",
            "Bot",
            "Strategy",
            "Asset",
            "Venue",
            "Direction",
            "Confidence",
            "Entry",
            "Acted on",
            "Reason",
        ),
        [
            (
                e(f"{r.ts:%Y-%m-%d %H:%M:%S}"),
                e(r.bot),
                e(r.strategy),
                e(r.asset),
                e(r.venue),
                e(r.direction or "-"),
                e(r.confidence if r.confidence is not None else "-"),
                e(r.entry_price if r.entry_price is not None else "-"),
                "yes" if r.acted_on else "no",
                e(r.reason or ""),
            )
            for r in rows
        ],
    )
    if not rows:
        body += '<p class="note">No signals recorded (signal_portfolio bots write them).</p>'
    return layout("Signals", body, user, page="signals")


def backtests_page(user: User, runs: list[BacktestRun]) -> str:
    body = table(
        ("Run", "Created", "Bot", "Strategy", "Period", "Net PnL", "Sweep", "Split", "Stopped by"),
        [
            (
                f'<a href="/backtests/{r.id}">{r.id}</a>',
                e(f"{r.created_at:%Y-%m-%d %H:%M}"),
                e(r.bot_name),
                e(r.strategy),
                e(f"{r.period_start:%Y-%m-%d} - {r.period_end:%Y-%m-%d}"),
                signed(r.net_pnl),
                e(r.sweep or "-"),
                e(r.split or "-"),
                e(r.stopped_by or "-"),
            )
            for r in runs
        ],
    )
    if not runs:
        body += '<p class="note">No backtest runs stored (python -m backtest --store).</p>'
    return layout("Backtests", body, user, page="backtests")


def backtest_page(user: User, report: BacktestReport) -> str:
    run = report.run
    body = (
        f"<p>{e(run.strategy)} on {e(', '.join(run.data))}, "
        f"{e(f'{run.period_start:%Y-%m-%d %H:%M}')} to {e(f'{run.period_end:%Y-%m-%d %H:%M}')}"
        f" UTC - net {signed(run.net_pnl)} - result hash <code>{e(run.result_hash[:16])}</code>"
        "</p>"
    )
    body += "<h2>Equity</h2>" + equity_svg(report.equity) + drawdown_svg(report.equity)
    body += "<h2>Metrics</h2>" + table(
        ("Metric", "Value"), [(e(k), e(v)) for k, v in sorted(run.metrics.items())]
    )
    body += "<h2>Parameters</h2>" + f"<pre>{e(json.dumps(run.params, indent=1, default=str))}</pre>"
    body += "<h2>Trades</h2>" + table(
        ("Time", "Kind", "Venue", "Symbol", "Side", "Price", "Size", "Fee", "Amount"),
        [
            (
                e(f"{t.ts:%Y-%m-%d %H:%M:%S}"),
                e(t.kind),
                e(t.venue),
                e(t.symbol),
                e(t.side or "-"),
                e(t.price if t.price is not None else "-"),
                e(t.size if t.size is not None else "-"),
                e(t.fee if t.fee is not None else "-"),
                e(t.amount if t.amount is not None else "-"),
            )
            for t in report.trades
        ],
    )
    return layout(f"Backtest {run.id}: {run.bot_name}", body, user, page="backtest")


def audit_page(user: User, entries: list[tuple[datetime, str, str, str, dict[str, Any]]]) -> str:
    rows = [
        (
            e(f"{ts:%Y-%m-%d %H:%M:%S}"),
            e(actor),
            e(action),
            e(target),
            e(json.dumps(details, default=str)),
        )
        for ts, actor, action, target, details in entries
    ]
    return layout(
        "Audit log",
        table(("Time", "Actor", "Action", "Target", "Details"), rows),
        user,
        page="audit",
    )


def error_page(user: User | None, title: str, message: str) -> str:
    return layout(title, f'<p class="error">{e(message)}</p>', user, page="error")
