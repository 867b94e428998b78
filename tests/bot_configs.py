"""The small paper grid bot the runtime, end-to-end and fleet tests run (one place to edit)."""

from __future__ import annotations


def paper_grid_yaml(name: str, *, take_profit: str = "0.6", extra: str = "") -> str:
    """A long BTC grid on the paper venue that trades the synthetic market within seconds;
    ``extra`` is appended as more top-level sections (risk, control_api ...)."""
    return f"""\
name: {name}
strategy:
  type: grid
  params:
    exchange: paper
    ticker: BTC
    direction: buy
    order_notional_usd: 100
    target_leverage: 10
    take_profit: {take_profit}
    grid_step: 0.02
    max_orders: 5
    max_margin_usd: 100
    wait_time: 0
exchanges:
  paper: {{}}
{extra}"""
