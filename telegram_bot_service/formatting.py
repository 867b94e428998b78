"""Turning numbers and tables into Telegram messages: exact money, monospace tables, pages.

Money arrives from the control API as decimal strings and is formatted as ``Decimal`` (never
through float): USD with thousands separators and 2 decimals, prices and sizes with the digits
they have. Messages use ``parse_mode=HTML``, so every piece of outside text goes through
:func:`escape`. Telegram refuses messages over 4096 characters: :func:`paginate` splits long
outputs on line boundaries, each page a complete, well-formed message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from core.redaction import scrub

MESSAGE_LIMIT = 4096
# Headroom under the limit for a page header ("page 2/3") and markup.
PAGE_BUDGET = 3800
DASH = "-"
_TAG = re.compile(r"<[^<>]*>")


def escape(text: object) -> str:
    """Outside text made safe for HTML messages (and scrubbed of registered secrets)."""
    return html.escape(scrub(str(text)), quote=False)


def clip(text: str, limit: int = 64) -> str:
    """``text`` cut to ``limit`` characters (with an ellipsis): for names echoed back."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(html_text: str) -> str:
    """What the user sees of one of our HTML messages (tags removed, entities decoded)."""
    return html.unescape(_TAG.sub("", html_text))


def split_visible(text: str, *, budget: int = PAGE_BUDGET, max_pages: int = 5) -> list[str]:
    """Plain ``text`` in pieces of at most ``budget`` UTF-16 units, on line ends where possible;
    beyond ``max_pages`` the rest is dropped with a note (no chat needs 20 pages of it)."""
    pages: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while line:
            room = budget - utf16_length(current)
            if utf16_length(line) <= room:
                current += line
                break
            if current:
                pages.append(current)
                current = ""
                continue
            cut = budget
            while utf16_length(line[:cut]) > budget:
                cut -= 1
            pages.append(line[:cut])
            line = line[cut:]
    if current or not pages:
        pages.append(current)
    if len(pages) > max_pages:
        dropped = sum(len(page) for page in pages[max_pages:])
        pages = pages[:max_pages]
        pages[-1] += f"\n… cut: {dropped} more characters (too long for a chat)."
    return [page.strip("\n") or "…" for page in pages]


def to_decimal(value: Any) -> Decimal | None:
    """A JSON money value (decimal string or int) as Decimal; None when absent or not a number.

    Floats are refused like everywhere else in perpfleet: they already lost the exact value.
    """
    if value is None or isinstance(value, bool | float):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def usd(value: Any, *, signed: bool = False) -> str:
    """``1,234.50`` (``+1,234.50`` with ``signed``); ``-`` when unknown."""
    number = to_decimal(value)
    if number is None:
        return DASH
    text = f"{number:,.2f}"
    if text in ("-0.00",):
        text = "0.00"
    if signed and not text.startswith("-") and text != "0.00":
        text = "+" + text
    return text


def amount(value: Any) -> str:
    """A price or size with its own digits and thousands separators (``66,229.5``, ``0.001``)."""
    number = to_decimal(value)
    if number is None:
        return DASH
    normal = number.normalize()
    if normal == normal.to_integral_value():
        normal = normal.quantize(Decimal(1))
    return f"{normal:,f}"


def percent(value: Any, places: int = 2) -> str:
    number = to_decimal(value)
    if number is None:
        return DASH
    return f"{number:,.{places}f}%"


def duration(seconds: Any) -> str:
    """``2d 3h``, ``4h 05m``, ``12m 30s``, ``45s``; ``-`` when unknown.

    Durations are not money: floats (supervisord's uptime) are fine here.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | Decimal | str):
        return DASH
    try:
        total = int(float(seconds))
    except (ValueError, OverflowError):
        return DASH
    if total < 0:
        return DASH
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> str:
    """A plain-text table (for a ``<pre>`` block); columns in ``right`` are right-aligned."""
    data = [list(headers), *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in data) for i in range(len(headers))]
    aligned_right = set(right)
    lines = []
    for row in data:
        cells = [
            cell.rjust(widths[i]) if i in aligned_right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def pre(text: str) -> str:
    """Monospace block (HTML)."""
    return f"<pre>{escape(text)}</pre>"


def paginate(lines: Sequence[str], *, budget: int = PAGE_BUDGET) -> list[list[str]]:
    """Split ``lines`` into pages whose joined text stays under ``budget`` characters.

    A single line longer than the budget is cut into pieces (log lines can be long).
    """
    pages: list[list[str]] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        pieces = [raw[i : i + budget] for i in range(0, len(raw), budget)] or [""]
        for line in pieces:
            cost = len(line) + 1
            if current and size + cost > budget:
                pages.append(current)
                current, size = [], 0
            current.append(line)
            size += cost
    if current or not pages:
        pages.append(current)
    return pages


def pre_pages(title: str, text: str, *, budget: int = PAGE_BUDGET) -> list[str]:
    """``text`` as one or more HTML messages, each ``title`` plus a ``<pre>`` block."""
    # Telegram counts the visible text (after HTML parsing): split the raw lines, then escape.
    pages = paginate(scrub(text).splitlines(), budget=budget - len(title))
    total = len(pages)
    out = []
    for number, page in enumerate(pages, start=1):
        header = title if total == 1 else f"{title} ({number}/{total})"
        body = "\n".join(escape(line) for line in page) or " "
        out.append(f"{header}\n<pre>{body}</pre>")
    return out
