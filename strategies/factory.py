"""Which class runs each strategy type: ``@register_strategy("grid")`` on the class.

The params schema of each type is registered separately (``trading_config.strategy_params``)
so config validation works without importing strategy code; this registry maps the same name
to the class the runtime instantiates, and checks the two agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import ConfigError
from strategies.base_strategy import BaseStrategy, StrategyContext
from trading_config.strategy_params import StrategyParams, find_strategy_params

S = TypeVar("S", bound=type[BaseStrategy[Any]])

_CLASSES: dict[str, type[BaseStrategy[Any]]] = {}


def register_strategy(name: str) -> Callable[[S], S]:
    def decorator(cls: S) -> S:
        existing = _CLASSES.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"strategy {name!r} is already registered by {existing.__qualname__}")
        cls.name = name
        _CLASSES[name] = cls
        return cls

    return decorator


def strategy_class(name: str) -> type[BaseStrategy[Any]]:
    """The class of strategy ``name``, importing ``strategies.<name>.strategy`` on first use
    (config validation imports only the params modules, keeping ``--check`` light)."""
    if name not in _CLASSES:
        module = f"strategies.{name}.strategy"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not (exc.name and module.startswith(exc.name)):
                raise  # a missing dependency inside the strategy: not "no such strategy"
    try:
        return _CLASSES[name]
    except KeyError:
        known = ", ".join(sorted(_CLASSES)) or "none"
        raise ConfigError(f"no strategy class for {name!r}: expected one of {known}") from None


def create_strategy(
    name: str, context: StrategyContext, params: StrategyParams
) -> BaseStrategy[Any]:
    cls = strategy_class(name)
    schema = find_strategy_params(name)
    if schema is None or not isinstance(params, schema):
        raise ConfigError(f"strategy {name!r} expects {schema}, got {type(params).__name__}")
    return cls(context, params)
