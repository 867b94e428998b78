"""Bot configuration: schema, YAML loading with clear errors, and process setup (logging)."""

from trading_config.errors import ConfigError, TradingError
from trading_config.loader import CliOverrides, dump_config, load_config, save_config
from trading_config.schema import BotConfig

__all__ = [
    "BotConfig",
    "CliOverrides",
    "ConfigError",
    "TradingError",
    "dump_config",
    "load_config",
    "save_config",
]
