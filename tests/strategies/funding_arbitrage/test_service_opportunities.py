"""``opportunities: service``: the strategy takes its candidates from the real funding-rate
service (its FastAPI app served by uvicorn on a local port, reading the rows written to the
same database, SQLite and PostgreSQL), and scans every symbol directly while the service is
unreachable or stale - each switch logged once.

The live paper venues always show the base case of ``test_strategy.py`` (long paper_a, short
paper_b, 143.32 % APR net); what the *service* holds decides whether the strategy looks at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from core.clock import ManualClock
from strategies.funding_arbitrage.params import FundingArbitrageParams
from tests.exchange_clients.paper.helpers import START
from tests.funding_rate_service.api_rig import record, write
from tests.funding_rate_service.served import free_port, funding_service
from tests.strategies.funding_arbitrage.test_strategy import FUNDING, arb_config, set_funding
from tests.strategies.rig import strategy_rig

D = Decimal
Sessions = async_sessionmaker[AsyncSession]
SPREAD = {"paper_a": "0.00001", "paper_b": "0.0002"}  # per hour, as the live venues
FLAT = {"paper_a": "0.0001", "paper_b": "0.0001"}
TAKER = {"paper_a": "0.00045", "paper_b": "0.0005"}


async def collected(sessions: Sessions, rates: dict[str, str], at: datetime) -> None:
    """What the collector would have written at ``at`` (1 h funding, mark 99.75)."""
    await write(
        sessions,
        [
            record(venue, "BTC", rate, interval=1, at=at, mark="99.75", taker=TAKER[venue])
            for venue, rate in rates.items()
        ],
    )


def events(logs: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if str(entry.get("event", "")).startswith(prefix)]


async def test_candidates_come_from_the_service(db_sessions: Sessions) -> None:
    port = free_port()
    config = arb_config(opportunities="service", service_url=f"http://127.0.0.1:{port}")
    async with (
        funding_service(db_sessions, port, ManualClock(START)),
        strategy_rig(db_sessions, config) as rig,
    ):
        await set_funding(rig, FUNDING)
        # The service's rates show no spread: the strategy does not even quote.
        await collected(db_sessions, FLAT, START)
        with capture_logs() as logs:
            await rig.step()
        assert await rig.venues.positions() == {"paper_a": 0, "paper_b": 0}
        assert events(logs, "no opportunity from the funding-rate service")
        assert all(client.sent == [] for client in rig.venues.clients.values())

        # The service sees the spread the venues show: the pair is checked live and opened.
        await collected(db_sessions, SPREAD, START + timedelta(hours=1))
        with capture_logs() as logs:
            await rig.step()
        assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.60")}
        assert events(logs, "opportunities:") == []  # never fell back


async def test_unreachable_then_back_scans_directly_meanwhile_logged_once(
    db_sessions: Sessions,
) -> None:
    port = free_port()
    config = arb_config(
        opportunities="service", service_url=f"http://127.0.0.1:{port}", max_positions=2
    )
    async with strategy_rig(db_sessions, config) as rig:
        await set_funding(rig, FUNDING)
        with capture_logs() as logs:
            await rig.step(3)  # opens the pair from the direct scan, then finds nothing new
        assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.60")}
        [fallback] = events(logs, "opportunities: scanning directly")
        assert fallback["log_level"] == "warning"
        assert fallback["reason"] == (
            f"the funding-rate service at http://127.0.0.1:{port} is not reachable "
            "(connection refused)"
        )

        await collected(db_sessions, SPREAD, START)
        async with funding_service(db_sessions, port, ManualClock(START)):
            with capture_logs() as logs:
                await rig.step(2)
        assert len(events(logs, "opportunities: the funding-rate service answers again")) == 1
        assert events(logs, "opportunities: scanning directly") == []


async def test_stale_service_data_is_not_used(db_sessions: Sessions) -> None:
    port = free_port()
    config = arb_config(
        opportunities="service",
        service_url=f"http://127.0.0.1:{port}",
        service_max_age_seconds=600,
    )
    async with (
        funding_service(db_sessions, port, ManualClock(START)),
        strategy_rig(db_sessions, config) as rig,
    ):
        await set_funding(rig, FUNDING)
        # paper_a fresh, paper_b's newest row observed 11 minutes before the bot's clock
        # (record() observes 1 min before ``at``): the service's view is not current.
        await collected(db_sessions, {"paper_a": FLAT["paper_a"]}, START)
        await collected(db_sessions, {"paper_b": FLAT["paper_b"]}, START - timedelta(minutes=10))
        with capture_logs() as logs:
            await rig.step()
        [fallback] = events(logs, "opportunities: scanning directly")
        assert fallback["reason"] == (
            "the funding-rate service's newest paper_b rate is 660 s old "
            "(service_max_age_seconds 600)"
        )
        # Scanned directly: the live spread is traded although the stale service saw none.
        assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.60")}


async def test_a_venue_the_service_does_not_collect_means_direct_scanning(
    db_sessions: Sessions,
) -> None:
    port = free_port()
    config = arb_config(opportunities="service", service_url=f"http://127.0.0.1:{port}")
    async with (
        funding_service(db_sessions, port, ManualClock(START)),
        strategy_rig(db_sessions, config) as rig,
    ):
        await set_funding(rig, FUNDING)
        await collected(db_sessions, {"paper_a": FLAT["paper_a"]}, START)
        with capture_logs() as logs:
            await rig.step()
        [fallback] = events(logs, "opportunities: scanning directly")
        assert fallback["reason"] == (
            f"the funding-rate service at http://127.0.0.1:{port} has no rates for paper_b"
        )
        assert await rig.venues.positions() == {"paper_a": D("0.60"), "paper_b": D("-0.60")}


BASE: dict[str, Any] = {"venues": ["paper_a", "paper_b"], "target_margin_usd": 10}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"opportunities": "sevice"}, "Input should be 'direct' or 'service'"),
        (
            {"opportunities": "service", "service_url": "127.0.0.1:8710"},
            "expected an http(s) URL like http://127.0.0.1:8710, got '127.0.0.1:8710'",
        ),
        (
            {"opportunities": "service", "service_url": "http://u:p@127.0.0.1:8710"},
            "no credentials",
        ),
        ({"opportunities": "service", "service_max_age_seconds": 0}, "greater than or equal"),
        (
            {"service_url": "http://10.0.0.5:8710"},
            "service_url only apply with opportunities: service",
        ),
        (
            {"service_max_age_seconds": 60},
            "service_max_age_seconds only apply with opportunities: service",
        ),
    ],
)
def test_service_settings_are_checked(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FundingArbitrageParams.model_validate({**BASE, **extra})


def test_direct_mode_accepts_the_service_defaults_a_written_config_spells_out() -> None:
    """The config builder writes every parameter: the defaults of the service settings are
    not a setting that would be ignored."""
    params = FundingArbitrageParams.model_validate(
        {**BASE, "service_url": "http://127.0.0.1:8710", "service_max_age_seconds": 300}
    )
    assert params.opportunities == "direct"


def test_direct_scanning_stays_the_default() -> None:
    params = FundingArbitrageParams.model_validate(BASE)
    assert params.opportunities == "direct"
    service = FundingArbitrageParams.model_validate(
        {**BASE, "opportunities": "service", "service_url": "http://10.0.0.5:8710/"}
    )
    assert (service.service_url, service.service_max_age_seconds) == ("http://10.0.0.5:8710", 300)
