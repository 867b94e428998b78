"""Which class runs each strategy type: found from the params model the strategy registered.

A strategy registers once, its params model (see :mod:`strategies`); the class that runs it is
the ``BaseStrategy[<that model>]`` subclass in the ``strategy`` module next to the model,
imported on first use (config validation imports only the params modules, keeping ``--check``
light). The class gets the registered name as its ``name``.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

from core.errors import ConfigError
from strategies.base_strategy import BaseStrategy, StrategyContext
from trading_config.strategy_params import StrategyParams, strategy_params_schema

_CLASSES: dict[str, type[BaseStrategy[Any]]] = {}


def params_type(cls: type) -> Any:
    """``X`` of a class declared ``class S(BaseStrategy[X])`` (None for any other class)."""
    for base in getattr(cls, "__orig_bases__", ()):
        if typing.get_origin(base) is BaseStrategy:
            return typing.get_args(base)[0]
    return None


def strategy_class(name: str) -> type[BaseStrategy[Any]]:
    """The class of strategy ``name`` (unknown names: ``ConfigError`` listing the known)."""
    if name in _CLASSES:
        return _CLASSES[name]
    schema = strategy_params_schema(name)
    module = importlib.import_module(schema.__module__.rpartition(".")[0] + ".strategy")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseStrategy)
        and value.__module__ == module.__name__
        and params_type(value) is schema
    ]
    if len(found) != 1:
        raise ConfigError(
            f"strategy {name!r}: expected one BaseStrategy[{schema.__name__}] in "
            f"{module.__name__}, found {len(found)}"
        )
    [cls] = found
    cls.name = name
    _CLASSES[name] = cls
    return cls


def create_strategy(
    name: str, context: StrategyContext, params: StrategyParams
) -> BaseStrategy[Any]:
    cls = strategy_class(name)
    schema = strategy_params_schema(name)
    if not isinstance(params, schema):
        raise ConfigError(f"strategy {name!r} expects {schema}, got {type(params).__name__}")
    return cls(context, params)
