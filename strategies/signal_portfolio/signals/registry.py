"""The signal strategies by name: a decorator registers each, with its parameter model.

A signal strategy is one class in one module of this package::

    @signal_strategy("my_rule")
    class MyRule(SignalStrategy[MyRuleParams]):
        params_model = MyRuleParams
        def evaluate(self, snapshot: MarketSnapshot) -> Signal | None: ...

Importing :mod:`strategies.signal_portfolio.signals` imports every module of the package, so
a new file is found without a list to edit; the bot's YAML enables it by name with its
params, validated against ``params_model`` (unknown keys refused).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from strategies.signal_portfolio.signals.types import Direction, MarketSnapshot, Signal


class SignalParams(BaseModel):
    """Base of every signal strategy's parameters: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=SignalParams)


class SignalStrategy(ABC, Generic[P]):
    """One rule turning a :class:`MarketSnapshot` into a :class:`Signal` (or nothing)."""

    name: ClassVar[str]
    params_model: ClassVar[type[SignalParams]]

    def __init__(self, params: P) -> None:
        self.params = params

    @abstractmethod
    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        """The signal for ``snapshot``, or None to pass (passes are recorded too)."""

    def signal(
        self,
        snapshot: MarketSnapshot,
        direction: Direction,
        confidence: Decimal,
        **metadata: Any,
    ) -> Signal:
        """A signal of this strategy at the snapshot's price and time."""
        return Signal(
            self.name,
            snapshot.asset,
            snapshot.venue,
            direction,
            min(max(confidence, Decimal(0)), Decimal(1)),
            snapshot.price,
            snapshot.ts,
            metadata,
        )


_REGISTRY: dict[str, type[SignalStrategy[Any]]] = {}

S = TypeVar("S", bound=type[SignalStrategy[Any]])


def signal_strategy(name: str) -> Callable[[S], S]:
    """Register the decorated class as signal strategy ``name``."""

    def register(cls: S) -> S:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"signal strategy {name!r} is registered twice")
        if not (isinstance(cls.params_model, type) and issubclass(cls.params_model, SignalParams)):
            raise TypeError(f"signal strategy {name!r}: params_model must be a SignalParams")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return register


def registered() -> Mapping[str, type[SignalStrategy[Any]]]:
    return dict(_REGISTRY)


def signal_class(name: str) -> type[SignalStrategy[Any]]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown signal strategy {name!r}: expected one of {', '.join(sorted(_REGISTRY))}"
        ) from None


def build(name: str, raw: Mapping[str, Any] | None) -> SignalStrategy[Any]:
    """Signal strategy ``name`` with ``raw`` params validated by its model."""
    cls = signal_class(name)
    return cls(cls.params_model.model_validate(dict(raw or {})))
