"""Prices for successive attempts of an aggressive limit order.

An aggressive limit tries to fill without paying the full spread: first it
joins the touch (maker, post-only), then it steps inside the spread, then it
crosses the book by a growing number of ticks. Each step is capped by a
*break-even* price derived from a reference (the price the other leg of an
arbitrage filled at, or a position's entry): a hedge that costs more than
``max_adverse_pct`` against the reference is not worth chasing with limits,
and the caller falls back to its final market order or to rollback instead.

Pure functions of (side, attempt, book touch, market grid, parameters), so
every decision is reproducible in tests and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from exchange_clients.rounding import round_price
from exchange_clients.types import Market, Side

HUNDRED = Decimal(100)


class Stage(StrEnum):
    TOUCH = "touch"  # join the best price on our side: rests, pays no spread
    INSIDE = "inside"  # improve our side inside the spread: rests, first in the queue
    THROUGH = "through"  # cross the book: takes liquidity


@dataclass(frozen=True)
class AggressiveLimitParams:
    """How an aggressive limit escalates; every field is configurable per execution.

    ``attempts`` counts the limit attempts before the final market order for
    what is left. Attempt 0 is the touch, attempt 1 inside the spread, and
    attempts 2.. cross by ``through_ticks`` x (attempt - 1) ticks.
    """

    attempts: int = 3
    inside_ticks: int = 1
    through_ticks: int = 1
    max_adverse_pct: Decimal | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        if self.inside_ticks < 1 or self.through_ticks < 1:
            raise ValueError("inside_ticks and through_ticks must be at least 1")
        if self.max_adverse_pct is not None and self.max_adverse_pct < 0:
            raise ValueError(f"max_adverse_pct cannot be negative, not {self.max_adverse_pct}")


@dataclass(frozen=True)
class PriceDecision:
    """The price of one attempt and why.

    ``capped`` means the break-even limit bound the price; ``post_only`` is
    true for stages that must not take liquidity (a venue rejecting them as
    crossing means the book moved: re-price, don't chase).
    """

    price: Decimal
    stage: Stage
    capped: bool

    @property
    def post_only(self) -> bool:
        return self.stage is not Stage.THROUGH


def break_even_limit(side: Side, reference: Decimal, max_adverse_pct: Decimal) -> Decimal:
    """The worst acceptable price: a buy pays at most, a sell receives at least, this."""
    adverse = reference * max_adverse_pct / HUNDRED
    return reference + adverse if side == "buy" else reference - adverse


def aggressive_limit_price(
    side: Side,
    attempt: int,
    best_bid: Decimal,
    best_ask: Decimal,
    market: Market,
    params: AggressiveLimitParams,
    reference_price: Decimal | None = None,
) -> PriceDecision:
    """The limit price of attempt number ``attempt`` (0-based), on the market's tick grid."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, not {attempt}")
    if best_bid >= best_ask:
        raise ValueError(f"crossed or locked book: bid {best_bid} >= ask {best_ask}")
    tick = market.tick_size
    buy = side == "buy"
    stage = Stage.TOUCH if attempt == 0 else Stage.INSIDE if attempt == 1 else Stage.THROUGH

    if stage is Stage.TOUCH:
        raw = best_bid if buy else best_ask
    elif stage is Stage.INSIDE:
        # Improve our side but never reach the other side (that would take liquidity); with a
        # one-tick spread there is nothing inside and this stays at the touch.
        step = tick * params.inside_ticks
        raw = (
            min(best_bid + step, best_ask - tick) if buy else max(best_ask - step, best_bid + tick)
        )
    else:
        ticks = params.through_ticks * (attempt - 1)
        raw = best_ask + tick * ticks if buy else best_bid - tick * ticks

    price = round_price(market, raw, side)
    capped = False
    if reference_price is not None and params.max_adverse_pct is not None:
        limit = round_price(
            market, break_even_limit(side, reference_price, params.max_adverse_pct), side
        )
        if (buy and price > limit) or (not buy and price < limit):
            price, capped = limit, True
    return PriceDecision(price=price, stage=stage, capped=capped)
