"""Reading the bots' control-API JSON: one place that knows its shapes.

Money comes as decimal strings (see :mod:`bot_runtime.control_api`); everything here returns
``Decimal`` or None, never floats. ``/pnl`` totals are flat in the runtime's answer
(``realized``, ``unrealized``, ``funding``, ``fees``, ``net``); a ``totals`` object is accepted
too, so a bot that nests them still reads right.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from telegram_bot_service.formatting import to_decimal

PNL_FIELDS = ("realized", "unrealized", "funding", "fees", "net")


def pnl_totals(pnl: Any) -> dict[str, Decimal | None]:
    """The total of each PnL component; ``net`` computed when the bot does not send it."""
    source: Mapping[str, Any] = {}
    if isinstance(pnl, Mapping):
        nested = pnl.get("totals")
        source = nested if isinstance(nested, Mapping) else pnl
    totals = {name: to_decimal(source.get(name)) for name in PNL_FIELDS}
    if totals["net"] is None:
        parts = [totals["realized"], totals["unrealized"], totals["funding"]]
        if all(part is not None for part in parts):
            fees = totals["fees"] or Decimal(0)
            totals["net"] = sum((p for p in parts if p is not None), Decimal(0)) - fees
    return totals


def position_pnl(position: Mapping[str, Any]) -> Decimal | None:
    return to_decimal(position.get("unrealized_pnl", position.get("pnl")))


def is_killed(status: Any) -> bool:
    """Whether the bot's risk manager tripped its kill switch (``risk.killed``)."""
    if not isinstance(status, Mapping):
        return False
    risk = status.get("risk")
    return isinstance(risk, Mapping) and risk.get("killed") is True


def as_list(value: Any) -> list[Mapping[str, Any]]:
    """A JSON list of objects (anything else: empty)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]
