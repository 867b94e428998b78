"""The root of perpfleet's error hierarchy and the configuration error.

DESIGN.md §3: one hierarchy. ``TradingError`` is the root; exchange errors
(``ExchangeError`` and its children) live with the exchange contract, and
``ConfigError`` lives here because every process loads configuration before it
touches a venue. A ``ConfigError`` is a *user mistake*: entry points print its
lines and exit 2 without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class TradingError(Exception):
    """Base class of every error perpfleet raises on purpose."""


class ConfigError(TradingError):
    """Configuration or other user input is wrong.

    Holds one human-readable line per problem so that a config with three
    mistakes reports all three at once instead of one per run.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        lines = [problems] if isinstance(problems, str) else list(problems)
        if not lines:
            raise ValueError("ConfigError needs at least one problem")
        self.problems: list[str] = lines
        super().__init__("\n".join(lines))
