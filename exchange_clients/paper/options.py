"""The paper client's options (``ClientSettings.options``), checked once with clear errors.

Options come from code (tests, backtests) or config, so each one is type-checked here and a
wrong one is a :class:`ConfigError` naming it, not an ``AttributeError`` deep in the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from core.clock import Clock, SystemClock
from core.errors import ConfigError
from exchange_clients.market_data.events import MarketFeed
from exchange_clients.paper.changes import EngineChanges
from exchange_clients.paper.faults import FaultPlan
from exchange_clients.paper.profiles import PaperProfile, profile_for
from exchange_clients.types import ClientSettings

DEFAULT_SEED = 7
KNOWN_OPTIONS = (
    "clock",
    "database_url",
    "faults",
    "feed",
    "initial_balance",
    "on_changes",
    "profile",
    "seed",
    "store",
)
ChangesListener = Callable[[EngineChanges], None]


def resolve_profile(settings: ClientSettings) -> PaperProfile:
    """The venue's paper profile, or the ``profile`` option's: a backtest simulates any venue
    (its fees and funding schedule) on the paper engine under the venue's own name."""
    profile = settings.options.get("profile")
    if profile is None:
        return profile_for(settings.venue)
    if not isinstance(profile, PaperProfile) or profile.venue != settings.venue:
        raise ConfigError(
            f"{settings.venue}: option profile must be a PaperProfile for {settings.venue!r}, "
            f"not {profile!r}"
        )
    return profile


@dataclass(frozen=True)
class PaperOptions:
    """``feed`` None means the seeded synthetic market; ``persist`` False keeps it all in
    memory (``store: None``); ``database_url`` None means the configured database.
    ``initial_balance`` funds a new account only: a resumed one keeps its stored wallet.
    ``on_changes`` (backtests) is called with every drained :class:`EngineChanges` - fills,
    funding payments, liquidations - before they are stored and published."""

    clock: Clock
    feed: MarketFeed | None
    seed: int
    initial_balance: Decimal
    persist: bool
    database_url: str | None
    faults: FaultPlan
    on_changes: ChangesListener | None = None

    @classmethod
    def from_settings(cls, settings: ClientSettings, profile: PaperProfile) -> PaperOptions:
        options = settings.options
        unknown = sorted(set(options) - set(KNOWN_OPTIONS))
        if unknown:
            raise ConfigError(
                f"{settings.venue}: unknown paper option(s) {', '.join(unknown)}: expected "
                f"{', '.join(KNOWN_OPTIONS)}"
            )
        clock = options.get("clock", SystemClock())
        if not (callable(getattr(clock, "now", None)) and callable(getattr(clock, "sleep", None))):
            raise ConfigError(f"{settings.venue}: option clock must be a Clock, not {clock!r}")
        feed = options.get("feed")
        if feed is not None and not callable(getattr(feed, "events", None)):
            raise ConfigError(f"{settings.venue}: option feed must be a MarketFeed, not {feed!r}")
        seed = options.get("seed", DEFAULT_SEED)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"{settings.venue}: option seed must be an integer, not {seed!r}")
        balance = options.get("initial_balance", profile.initial_balance)
        if isinstance(balance, bool) or not isinstance(balance, Decimal | int | str):
            raise ConfigError(
                f"{settings.venue}: option initial_balance must be a Decimal, int or string "
                f"(never a float), not {balance!r}"
            )
        initial_balance = Decimal(balance)
        if not initial_balance.is_finite() or initial_balance < 0:
            raise ConfigError(
                f"{settings.venue}: option initial_balance must be >= 0, not {balance!r}"
            )
        if "store" in options and options["store"] is not None:
            raise ConfigError(
                f"{settings.venue}: option store only takes None (keep the account in memory); "
                "use database_url to choose the database"
            )
        url = options.get("database_url")
        if url is not None and not isinstance(url, str):
            raise ConfigError(f"{settings.venue}: option database_url must be a string")
        faults = options.get("faults", FaultPlan())
        if not isinstance(faults, FaultPlan):
            raise ConfigError(f"{settings.venue}: option faults must be a FaultPlan")
        on_changes = options.get("on_changes")
        if on_changes is not None and not callable(on_changes):
            raise ConfigError(f"{settings.venue}: option on_changes must be callable")
        return cls(
            on_changes=cast(ChangesListener | None, on_changes),
            clock=cast(Clock, clock),
            feed=cast(MarketFeed | None, feed),
            seed=seed,
            initial_balance=initial_balance,
            persist="store" not in options,
            database_url=url,
            faults=faults,
        )
