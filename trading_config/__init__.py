"""Bot configuration: the schema and YAML loading with clear errors."""

from trading_config.loader import CliOverrides, dump_config, load_config, save_config
from trading_config.schema import BotConfig

__all__ = ["BotConfig", "CliOverrides", "dump_config", "load_config", "save_config"]
