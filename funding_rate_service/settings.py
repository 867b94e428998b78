"""The funding-rate service's collection and storage settings, from the environment or the CLI.

Each setting has an environment variable and a command-line flag (the flag wins); every value is
checked once at start and all mistakes are reported together as one :class:`ConfigError` (one
line per problem, naming the variable or flag and what was expected), which the entry point
prints and exits 2 on.

====================================  =============================  ===========================
environment                           flag                           default
====================================  =============================  ===========================
PERPFLEET_FUNDING_INTERVAL_SECONDS    --interval-seconds             60 (one collection cycle)
PERPFLEET_FUNDING_VENUES              --venues (comma-separated)     paper_a,paper_b
PERPFLEET_FUNDING_SYMBOLS             --symbols (comma-separated)    every market of each venue
PERPFLEET_FUNDING_VENUE_TIMEOUT       --venue-timeout-seconds        20 (one venue's whole read)
PERPFLEET_FUNDING_RETENTION_DAYS      --retention-days               730 (0 = keep forever)
PERPFLEET_FUNDING_STALE_AFTER         --stale-after-seconds          3 x interval
PERPFLEET_FUNDING_STALE_DROP_DAYS     --stale-drop-days              7 (latest rows unseen)
PERPFLEET_FUNDING_BACKFILL_DAYS       --backfill-days                30 (0 = no backfill)
====================================  =============================  ===========================
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from core.errors import ConfigError
from core.suggestions import did_you_mean
from core.venues import VENUES

T = TypeVar("T")

ENV_PREFIX: Final = "PERPFLEET_FUNDING_"
DEFAULT_VENUES: Final = ("paper_a", "paper_b")
MIN_INTERVAL_SECONDS: Final = 5.0


@dataclass(frozen=True)
class CollectionSettings:
    """What to collect, how often, and how long to keep it."""

    interval_seconds: float = 60.0
    venues: tuple[str, ...] = DEFAULT_VENUES
    symbols: tuple[str, ...] | None = None  # None = every market of each venue
    venue_timeout_seconds: float = 20.0
    retention_days: int = 730
    stale_after_seconds: float | None = None  # None = 3 x interval
    stale_drop_days: int = 7
    backfill_days: int = 30
    # Per-venue client options (base_url, ws_url, a paper profile ...), set by the program
    # that builds the settings (tests, bench, a config file), not by env or flags.
    venue_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    @property
    def stale_after(self) -> float:
        """Seconds without a new observation after which a pair (or a venue) is stale."""
        if self.stale_after_seconds is not None:
            return self.stale_after_seconds
        return 3 * self.interval_seconds


@dataclass(frozen=True)
class _Spec:
    name: str  # the dataclass field
    env: str
    flag: str
    parse: Callable[[str], object]
    expected: str


def _positive_float(minimum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not value >= minimum or value == float("inf"):
            raise ValueError
        return value

    return parse


def _days(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError
    return value


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise ValueError
    return names


def _symbols(text: str) -> tuple[str, ...]:
    return tuple(name.upper() for name in _names(text))


SPECS: Final = (
    _Spec(
        "interval_seconds",
        "INTERVAL_SECONDS",
        "--interval-seconds",
        _positive_float(MIN_INTERVAL_SECONDS),
        f"a number of seconds >= {MIN_INTERVAL_SECONDS:g}",
    ),
    _Spec("venues", "VENUES", "--venues", _names, "comma-separated venue names"),
    _Spec("symbols", "SYMBOLS", "--symbols", _symbols, "comma-separated symbols (BTC,ETH)"),
    _Spec(
        "venue_timeout_seconds",
        "VENUE_TIMEOUT",
        "--venue-timeout-seconds",
        _positive_float(0.1),
        "a number of seconds >= 0.1",
    ),
    _Spec("retention_days", "RETENTION_DAYS", "--retention-days", _days, "whole days >= 0"),
    _Spec(
        "stale_after_seconds",
        "STALE_AFTER",
        "--stale-after-seconds",
        _positive_float(1.0),
        "a number of seconds >= 1",
    ),
    _Spec("stale_drop_days", "STALE_DROP_DAYS", "--stale-drop-days", _days, "whole days >= 0"),
    _Spec("backfill_days", "BACKFILL_DAYS", "--backfill-days", _days, "whole days >= 0"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The collection flags, for the service's entry point (values stay text: checked here)."""
    group = parser.add_argument_group("collection and storage")
    for spec in SPECS:
        group.add_argument(
            spec.flag,
            dest=f"funding_{spec.name}",
            metavar="VALUE",
            help=f"{spec.expected} (env {ENV_PREFIX}{spec.env})",
        )


def load(
    args: argparse.Namespace | None = None,
    environ: Mapping[str, str] | None = None,
    known_venues: Sequence[str] | None = None,
) -> CollectionSettings:
    """Settings from flags (first) and the environment; every mistake in one ConfigError."""
    env = os.environ if environ is None else environ
    venues_known = tuple(known_venues) if known_venues is not None else tuple(VENUES)
    values: dict[str, object] = {}
    problems: list[str] = []
    for spec in SPECS:
        flag_value = getattr(args, f"funding_{spec.name}", None) if args is not None else None
        source, text = (
            (spec.flag, flag_value)
            if flag_value is not None
            else (f"{ENV_PREFIX}{spec.env}", env.get(f"{ENV_PREFIX}{spec.env}"))
        )
        if text is None or not str(text).strip():
            continue
        try:
            values[spec.name] = spec.parse(str(text).strip())
        except ValueError:
            problems.append(f"{source}: expected {spec.expected}, got {text!r}")
    for venue in values.get("venues", DEFAULT_VENUES):  # type: ignore[attr-defined]
        if venue not in venues_known:
            hint = did_you_mean(venue, venues_known)
            problems.append(f"venues: unknown venue {venue!r}{hint}")
    if problems:
        raise ConfigError(problems)
    return CollectionSettings(**values)  # type: ignore[arg-type]
