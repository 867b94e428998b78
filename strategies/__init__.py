"""Trading strategies, one folder each.

Importing this package registers every strategy's parameter schema with
:mod:`trading_config.strategy_params`, so config validation knows them all.
"""

from strategies.funding_arbitrage import params as _funding_arbitrage_params
from strategies.grid import params as _grid_params

__all__ = ["_funding_arbitrage_params", "_grid_params"]
