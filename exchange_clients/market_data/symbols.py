"""The synthetic perpetuals: what a venue lists for each, and how each one behaves.

Listing fields (tick, step, minimums, leverage) are ``Decimal`` because the paper venue
enforces them exactly; the model parameters are floats because they feed a float random
process whose output is then put on the tick/step grid. Default ticks follow Hyperliquid's
five-significant-figure price grid, steps and minimums are Binance-like, and behaviour is
typical of 2024-2025 perps: BTC moves ~3 % a day, alts more; funding averages ~10 % APR with
swings to either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange_clients.types import Market


@dataclass(frozen=True, slots=True)
class SymbolModel:
    """One synthetic perpetual.

    Price: ``base_price`` is the centre the price wanders around (the log-price has a
    standard deviation of ~2.9 ``daily_vol`` around it); ``daily_vol`` is the standard
    deviation of the 1-day log return of the continuous part; ``jumps_per_day`` and
    ``jump_size`` (mean absolute log jump) add gaps, each of which fades out over hours.

    Book: ``touch_size`` is the mean size of a level at the fair price, in base units; each
    tick further away adds ``depth_growth`` times that; the spread gets
    ``floor(spread_widening * v * E)`` extra ticks (``v`` the volatility regime, ``E`` a unit
    exponential).

    Trades: ``trades_per_second`` at normal volatility, median size ``trade_size``.

    Funding: ``funding_mean`` is the long-run hourly rate (positive: longs pay, as usual);
    ``funding_scale`` multiplies the swings around it (alts swing harder).
    """

    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    max_leverage: Decimal
    base_price: float
    daily_vol: float
    jumps_per_day: float
    jump_size: float
    touch_size: float
    depth_growth: float
    spread_widening: float
    trades_per_second: float
    trade_size: float
    funding_mean: float
    funding_scale: float

    def __post_init__(self) -> None:
        for name in ("base_price", "daily_vol", "touch_size", "trade_size"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{self.symbol}: {name} must be positive")
        for name in (
            "jumps_per_day",
            "jump_size",
            "depth_growth",
            "spread_widening",
            "trades_per_second",
            "funding_scale",
        ):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{self.symbol}: {name} cannot be negative")
        self.market()  # the listing validates tick, step and minimums

    def market(self) -> Market:
        """The listing as a venue shows it; the minimum size is one step."""
        return Market(
            symbol=self.symbol,
            contract_id=f"{self.symbol}-PERP",
            tick_size=self.tick_size,
            step_size=self.step_size,
            min_size=self.step_size,
            min_notional=self.min_notional,
            max_leverage=self.max_leverage,
        )


DEFAULT_SYMBOLS: tuple[SymbolModel, ...] = (
    SymbolModel(
        symbol="BTC",
        tick_size=Decimal("1"),
        step_size=Decimal("0.001"),
        min_notional=Decimal("10"),
        max_leverage=Decimal("50"),
        base_price=60_000.0,
        daily_vol=0.03,
        jumps_per_day=1.0,
        jump_size=0.008,
        touch_size=0.4,
        depth_growth=0.08,
        spread_widening=0.5,
        trades_per_second=4.0,
        trade_size=0.02,
        funding_mean=1.0e-5,
        funding_scale=1.0,
    ),
    SymbolModel(
        symbol="ETH",
        tick_size=Decimal("0.1"),
        step_size=Decimal("0.01"),
        min_notional=Decimal("10"),
        max_leverage=Decimal("50"),
        base_price=3_000.0,
        daily_vol=0.038,
        jumps_per_day=1.0,
        jump_size=0.01,
        touch_size=6.0,
        depth_growth=0.08,
        spread_widening=0.5,
        trades_per_second=3.0,
        trade_size=0.4,
        funding_mean=1.1e-5,
        funding_scale=1.1,
    ),
    SymbolModel(
        symbol="SOL",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.1"),
        min_notional=Decimal("10"),
        max_leverage=Decimal("20"),
        base_price=150.0,
        daily_vol=0.05,
        jumps_per_day=1.2,
        jump_size=0.014,
        touch_size=80.0,
        depth_growth=0.1,
        spread_widening=0.6,
        trades_per_second=2.0,
        trade_size=6.0,
        funding_mean=1.3e-5,
        funding_scale=1.4,
    ),
    SymbolModel(
        symbol="DOGE",
        tick_size=Decimal("0.00001"),
        step_size=Decimal("1"),
        min_notional=Decimal("10"),
        max_leverage=Decimal("20"),
        base_price=0.15,
        daily_vol=0.055,
        jumps_per_day=1.2,
        jump_size=0.016,
        touch_size=40_000.0,
        depth_growth=0.1,
        spread_widening=0.6,
        trades_per_second=1.5,
        trade_size=3_000.0,
        funding_mean=1.3e-5,
        funding_scale=1.5,
    ),
)
