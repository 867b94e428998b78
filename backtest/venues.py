"""The simulated venues of a backtest: each configured venue becomes a paper engine under its
own name, charging that venue's fees and settling funding on that venue's schedule.

Paper venues keep their own profiles (:mod:`exchange_clients.paper.profiles`). Real venues get
their published base-tier fees (no volume tier, no rebates, no token discounts: what a new
account pays) and the funding interval the data shows for them, else the catalogue's
(:mod:`core.venues`). ``--fee VENUE=MAKER:TAKER`` overrides a venue's fees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from core.errors import ConfigError
from core.venues import VENUES
from exchange_clients.paper.profiles import PROFILES, PaperProfile

# Published base-tier perpetual fees (maker, taker) as fractions of notional.
BASE_TIER_FEES: Mapping[str, tuple[Decimal, Decimal]] = {
    "hyperliquid": (Decimal("0.00015"), Decimal("0.00045")),
    "aster": (Decimal("0.0001"), Decimal("0.00035")),
    "binance": (Decimal("0.0002"), Decimal("0.0005")),
    "backpack": (Decimal("0.0002"), Decimal("0.0005")),
    "lighter": (Decimal(0), Decimal(0)),
    "ccxt_binanceusdm": (Decimal("0.0002"), Decimal("0.0005")),
    "ccxt_bybit": (Decimal("0.0002"), Decimal("0.00055")),
    "ccxt_okx": (Decimal("0.0002"), Decimal("0.0005")),
}


@dataclass(frozen=True, slots=True)
class FeeOverride:
    maker: Decimal
    taker: Decimal


def parse_fee_override(text: str) -> tuple[str, FeeOverride]:
    """``VENUE=MAKER:TAKER`` (fractions of notional, e.g. ``binance=0.0002:0.0005``)."""
    venue, sep, rates = text.partition("=")
    maker, colon, taker = rates.partition(":")
    if not sep or not colon:
        raise ConfigError(f"--fee {text!r}: expected VENUE=MAKER:TAKER, e.g. binance=0.0002:0.0005")
    if venue not in VENUES:
        raise ConfigError(f"--fee {text!r}: unknown venue {venue!r}")
    try:
        fees = FeeOverride(Decimal(maker), Decimal(taker))
    except ArithmeticError:
        raise ConfigError(f"--fee {text!r}: maker and taker must be decimal numbers") from None
    if not (fees.maker.is_finite() and fees.taker.is_finite()) or abs(fees.maker) >= 1:
        raise ConfigError(f"--fee {text!r}: fees are fractions of notional, below 1")
    if fees.taker < 0 or abs(fees.taker) >= 1:
        raise ConfigError(f"--fee {text!r}: the taker fee must be in [0, 1)")
    return venue, fees


def venue_profile(
    venue: str,
    *,
    funding_interval_hours: int | None = None,
    fees: FeeOverride | None = None,
    initial_balance: Decimal | None = None,
) -> PaperProfile:
    """The paper profile that simulates ``venue``."""
    known = VENUES.get(venue)
    if known is None:
        raise ConfigError(f"venue {venue!r} is not in the venue catalogue")
    base = PROFILES.get(venue)
    if base is not None:
        maker, taker = base.maker_fee, base.taker_fee
    elif venue in BASE_TIER_FEES:
        maker, taker = BASE_TIER_FEES[venue]
    else:
        raise ConfigError(
            f"{venue}: no published fee schedule known to the backtest; pass "
            f"--fee {venue}=MAKER:TAKER"
        )
    if fees is not None:
        maker, taker = fees.maker, fees.taker
    interval = funding_interval_hours or known.default_funding_interval_hours
    profile = PaperProfile(
        venue=venue, maker_fee=maker, taker_fee=taker, funding_interval_hours=interval
    )
    if initial_balance is not None:
        profile = PaperProfile(
            venue=venue,
            maker_fee=maker,
            taker_fee=taker,
            funding_interval_hours=interval,
            initial_balance=initial_balance,
        )
    return profile
