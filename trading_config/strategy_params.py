"""The registry through which each strategy registers the schema of its ``params``.

Config validation must reject bad strategy parameters with the same precise
errors as the rest of the file, but ``trading_config`` sits below ``strategies``
and cannot know them. So the strategies fill this registry: each strategy
package registers its :class:`StrategyParams` subclass under its name (its one
registration: the factory finds the class from it), and importing the
``strategies`` package imports every strategy's params module. Nothing here
imports ``strategies``: an application that validates configs imports that
package first (runbot, fleet, Telegram and the builder do), and a lookup in an
empty registry says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from core.errors import ConfigError


@dataclass(frozen=True)
class MarketReference:
    """A symbol a strategy trades: at least ``needed`` of ``venues`` must list it."""

    symbol: str
    venues: tuple[str, ...]
    needed: int = 1


class StrategyParams(BaseModel):
    """Base of every strategy's parameter schema: unknown keys rejected, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    execution_settings: ClassVar[frozenset[str]] = frozenset()
    """The fields of the bot's ``execution`` section this strategy's orders follow. A config
    that sets any other is refused: the grid places its own post-only orders, and a
    ``default_mode: market`` it silently ignored would mislead whoever set it."""

    def venue_references(self) -> dict[tuple[str | int, ...], str]:
        """Venues the strategy trades on, keyed by where in ``params`` each is named.

        Each must be configured under ``exchanges``; the location lets the error
        point at the exact line that names an unconfigured venue.
        """
        return {}

    def market_references(self) -> dict[tuple[str | int, ...], MarketReference]:
        """Symbols the strategy trades, keyed by where in ``params`` each is named.

        A symbol its venues do not list stops the start (and ``--check``, where the venue's
        markets are known offline) with one line pointing at that place.
        """
        return {}

    def live_trading_problems(self) -> dict[tuple[str | int, ...], str]:
        """Why this strategy cannot trade the real venue accounts it names yet, keyed by where
        in ``params`` each is named; empty when nothing stops it.

        Asked by the bot before it starts (``runbot.py``, ``--check``), not by config
        validation: a backtest simulates the same venues and may run what live trading
        cannot.
        """
        return {}

    def summary(self) -> str:
        """One line describing the parameters, for ``runbot.py --check``."""
        return ", ".join(f"{name}={value}" for name, value in self)


P = TypeVar("P", bound=type[StrategyParams])
NONE_REGISTERED = "none registered (import the strategies package first)"

_REGISTRY: dict[str, type[StrategyParams]] = {}


def register_strategy_params(name: str) -> Callable[[P], P]:
    """Class decorator: ``@register_strategy_params("grid")`` on the strategy's params model."""

    def decorator(schema: P) -> P:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not schema:
            owner = f"{existing.__module__}.{existing.__name__}"
            raise ValueError(f"strategy {name!r} is already registered by {owner}")
        _REGISTRY[name] = schema
        return schema

    return decorator


def registered_strategies() -> list[str]:
    return sorted(_REGISTRY)


def find_strategy_params(name: str) -> type[StrategyParams] | None:
    return _REGISTRY.get(name)


def strategy_params_schema(name: str) -> type[StrategyParams]:
    """The params schema of strategy ``name``; unknown names raise ``ConfigError``."""
    schema = find_strategy_params(name)
    if schema is None:
        known = ", ".join(registered_strategies()) or NONE_REGISTERED
        raise ConfigError(f"unknown strategy {name!r}: expected one of {known}")
    return schema
