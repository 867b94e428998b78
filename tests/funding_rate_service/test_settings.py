"""Collection settings from the environment and flags: defaults, flags over the environment,
and every mistake named in one error."""

from __future__ import annotations

import argparse

import pytest

from core.errors import ConfigError
from funding_rate_service.settings import CollectionSettings, add_arguments, load


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults() -> None:
    settings = load(parse(), environ={})
    assert settings == CollectionSettings()
    assert settings.interval_seconds == 60
    assert settings.venues == ("paper_a", "paper_b")
    assert settings.symbols is None
    assert settings.stale_after == 180  # three intervals


def test_environment_and_flags_with_flags_winning() -> None:
    environ = {
        "PERPFLEET_FUNDING_INTERVAL_SECONDS": "30",
        "PERPFLEET_FUNDING_VENUES": "binance, backpack",
        "PERPFLEET_FUNDING_SYMBOLS": "btc,eth",
        "PERPFLEET_FUNDING_RETENTION_DAYS": "90",
        "PERPFLEET_FUNDING_STALE_DROP_DAYS": "2",
        "PERPFLEET_FUNDING_BACKFILL_DAYS": "0",
        "PERPFLEET_FUNDING_VENUE_TIMEOUT": "4.5",
    }
    settings = load(parse("--interval-seconds", "120", "--stale-after-seconds", "600"), environ)
    assert settings.interval_seconds == 120
    assert settings.venues == ("binance", "backpack")
    assert settings.symbols == ("BTC", "ETH")
    assert (settings.retention_days, settings.stale_drop_days, settings.backfill_days) == (90, 2, 0)
    assert settings.venue_timeout_seconds == 4.5
    assert settings.stale_after == 600


def test_every_mistake_is_named_at_once() -> None:
    environ = {
        "PERPFLEET_FUNDING_INTERVAL_SECONDS": "1",
        "PERPFLEET_FUNDING_RETENTION_DAYS": "-3",
        "PERPFLEET_FUNDING_VENUES": "binanse,paper_a",
    }
    with pytest.raises(ConfigError) as caught:
        load(parse("--venue-timeout-seconds", "soon"), environ)
    assert caught.value.problems == [
        "PERPFLEET_FUNDING_INTERVAL_SECONDS: expected a number of seconds >= 5, got '1'",
        "--venue-timeout-seconds: expected a number of seconds >= 0.1, got 'soon'",
        "PERPFLEET_FUNDING_RETENTION_DAYS: expected whole days >= 0, got '-3'",
        "venues: unknown venue 'binanse' (did you mean 'binance'?)",
    ]


def test_an_empty_venue_list_is_refused() -> None:
    with pytest.raises(ConfigError, match="--venues: expected comma-separated venue names"):
        load(parse("--venues", " , "), environ={})
