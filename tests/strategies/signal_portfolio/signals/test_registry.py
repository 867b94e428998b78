"""The registry: an eighth strategy in one class is found, configured and validated by name;
signals are checked on the way out."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import ValidationError

from strategies.signal_portfolio.params import SignalPortfolioParams, signal_specs
from strategies.signal_portfolio.signals import SIGNAL_MODULES, registry
from strategies.signal_portfolio.signals.registry import (
    SignalParams,
    SignalStrategy,
    signal_strategy,
)
from strategies.signal_portfolio.signals.types import Direction, MarketSnapshot, Signal
from tests.strategies.signal_portfolio.signals.helpers import NOW, snapshot

D = Decimal


class AboveParams(SignalParams):
    level: Decimal


@pytest.fixture
def eighth() -> Iterator[type[SignalStrategy[AboveParams]]]:
    @signal_strategy("price_above")
    class PriceAbove(SignalStrategy[AboveParams]):
        params_model = AboveParams

        def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
            if snapshot.price > self.params.level:
                return self.signal(snapshot, Direction.LONG, D("0.9"), level=str(self.params.level))
            return None

    try:
        yield PriceAbove
    finally:
        registry._REGISTRY.pop("price_above")


def test_the_seven_are_found_on_disk() -> None:
    assert set(SIGNAL_MODULES) == {
        "contrarian_pure",
        "contrarian_strength",
        "funding_rate",
        "funding_oi",
        "rsi_mean_reversion",
        "funding_carry",
        "momentum_breakout",
    }
    assert set(registry.registered()) == set(SIGNAL_MODULES)


def test_an_eighth_strategy_is_one_class_enabled_by_name(
    eighth: type[SignalStrategy[AboveParams]],
) -> None:
    params = SignalPortfolioParams.model_validate(
        {"exchange": "paper", "assets": ["BTC"], "signals": {"price_above": {"level": 99}}}
    )
    [(name, raw)] = signal_specs(params.signals)
    built = registry.build(name, raw)
    assert isinstance(built, eighth)
    signal = built.evaluate(snapshot(price="100"))
    assert signal is not None
    assert (signal.strategy, signal.direction, signal.metadata) == (
        "price_above",
        Direction.LONG,
        {"level": "99"},
    )
    with pytest.raises(
        ValidationError, match="signal strategy 'price_above': level: Field required"
    ):
        SignalPortfolioParams.model_validate(
            {"exchange": "paper", "assets": ["BTC"], "signals": {"price_above": {}}}
        )


def test_a_name_registered_twice_and_bad_signals_are_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @signal_strategy("funding_rate")
        class Again(SignalStrategy[AboveParams]):
            params_model = AboveParams

            def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
                return None

    with pytest.raises(ValueError, match=r"confidence 1\.5 is outside 0\.\.1"):
        Signal("s", "BTC", "paper", Direction.LONG, D("1.5"), D(1), NOW)
    with pytest.raises(ValueError, match="entry_price 0 must be positive"):
        Signal("s", "BTC", "paper", Direction.LONG, D("0.5"), D(0), NOW)
