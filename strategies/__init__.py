"""Trading strategies, one package each, found on disk: no list of them to keep.

A strategy is a package ``strategies/<name>/`` holding ``params.py``, whose params model is
registered under ``<name>`` (``@register_strategy_params("<name>")``, the strategy's one
registration), and ``strategy.py``, whose ``BaseStrategy[<that model>]`` subclass runs it (the
factory finds it from the model). Importing this package imports every strategy's ``params``
module, and only those (light: ``--check`` and the fleet validate configs without loading the
execution stack), which fills :mod:`trading_config.strategy_params`' registry: config
validation sits below the strategies and reads the registry they fill, so an application that
validates configs imports this package first.
"""

import importlib
import pkgutil

STRATEGY_PACKAGES = tuple(
    sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg)
)

for _package in STRATEGY_PACKAGES:
    importlib.import_module(f"{__name__}.{_package}.params")
