"""Health, jobs and metrics over HTTP from a real collector's state (venue fakes: one up, one
down), on both databases; a database that cannot answer makes the service "down" (503); the
token, when configured, guards every /api/v1 route and never the liveness probe."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.control_auth import hash_token
from database.engine import create_engine, session_maker
from funding_rate_service.backfill import backfill
from funding_rate_service.collector import Collector, public_client_factory
from funding_rate_service.jobs import Housekeeping
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.status import CollectorStatus
from testing.fakes.backpack import FakeBackpack
from testing.fakes.binance import FakeBinance
from tests.funding_rate_service.api_rig import NOW, api_client, record, write

D = Decimal


@pytest.fixture
async def collected(
    db_sessions: async_sessionmaker[AsyncSession],
) -> CollectorStatus:
    """binance answers; backpack's server is gone (its port refuses connections)."""
    async with FakeBackpack() as backpack:
        gone = {"base_url": backpack.base_url, "ws_url": backpack.ws_url}
    async with FakeBinance() as binance:
        options = {
            "binance": {"base_url": binance.base_url, "ws_url": binance.ws_url},
            "backpack": gone,
        }
        settings = CollectionSettings(
            venues=("binance", "backpack"), interval_seconds=60, venue_timeout_seconds=5
        )
        collector = Collector(
            settings, db_sessions, public_client_factory(options), clock=lambda: NOW
        )
        housekeeping = Housekeeping(settings, db_sessions, clock=lambda: NOW)
        status = CollectorStatus(collector, housekeeping)
        try:
            await collector.collect_once()
            await housekeeping.run_once()
            status.backfill_results = await backfill(
                db_sessions,
                ("binance", "paper_a"),
                1,
                public_client_factory(options),
                base_urls={"binance": binance.base_url},
                now=NOW,
            )
        finally:
            await collector.aclose()
    return status


async def test_health_jobs_and_metrics_from_the_collector(
    db_sessions: async_sessionmaker[AsyncSession], collected: CollectorStatus
) -> None:
    async with api_client(db_sessions, status=collected, now=NOW + timedelta(seconds=30)) as client:
        health = await client.get("/api/v1/health")
        jobs = (await client.get("/api/v1/jobs")).json()["jobs"]
        metrics = (await client.get("/api/v1/metrics")).json()
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded"  # one venue of two is failing
    assert body["database"]["ok"] is True
    assert body["database"]["backend"] in ("sqlite", "postgresql")
    venues = {v["venue"]: v for v in body["venues"]}
    assert venues["binance"]["status"] == "ok"
    assert venues["binance"]["lag_seconds"] == 30.0
    assert venues["binance"]["last_success"] == "2026-03-10T12:00:00Z"
    assert venues["binance"]["rows"] == 3
    assert venues["backpack"]["status"] == "failing"
    assert venues["backpack"]["last_success"] is None
    assert venues["backpack"]["consecutive_failures"] == 1
    assert venues["backpack"]["last_error"]
    collect, retention, backfilled = jobs
    assert (collect["name"], collect["runs"], collect["interval_seconds"]) == ("collect", 1, 60.0)
    assert collect["details"] == {"rows": 3, "failed_venues": 1}
    assert collect["last_error"].startswith("backpack: ")
    assert collect["last_run_at"] == "2026-03-10T12:00:00Z"
    assert retention["name"] == "retention"
    assert retention["runs"] == 1
    assert retention["last_error"] is None
    assert backfilled["name"] == "backfill"
    assert backfilled["details"]["venues"] == 2
    assert backfilled["details"]["rows"] > 0
    assert backfilled["last_error"].startswith("paper_a: publishes no funding history")
    assert metrics["latest_rows"] == 3
    assert metrics["history_rows"] == 3 + backfilled["details"]["rows"]
    assert (metrics["venues"], metrics["symbols"]) == (1, 3)
    assert metrics["requests_served"] == 3


async def test_every_venue_stale_or_failing_is_down(
    db_sessions: async_sessionmaker[AsyncSession], collected: CollectorStatus
) -> None:
    # three intervals (180 s) without a success: binance is stale, backpack still failing
    async with api_client(db_sessions, status=collected, now=NOW + timedelta(minutes=4)) as client:
        health = await client.get("/api/v1/health")
    assert health.status_code == 503
    assert health.json()["status"] == "down"
    assert {v["venue"]: v["status"] for v in health.json()["venues"]} == {
        "binance": "stale",
        "backpack": "failing",
    }


async def test_a_database_that_cannot_answer_is_down_without_its_error_text() -> None:
    engine = create_engine("postgresql+asyncpg://funding:pw-not-shown@127.0.0.1:1/nowhere")
    try:
        async with api_client(session_maker(engine)) as client:
            health = await client.get("/api/v1/health")
            rates = await client.get("/api/v1/rates")
            alive = await client.get("/health")
    finally:
        await engine.dispose()
    assert health.status_code == 503
    assert health.json()["status"] == "down"
    database = health.json()["database"]
    assert (database["ok"], database["backend"], database["latency_ms"]) == (
        False,
        "postgresql",
        None,
    )
    assert database["error"] == "ConnectionRefusedError"  # the kind only, never the text
    assert rates.status_code == 503
    assert rates.json() == {
        "error": "http_error",
        "message": "the database is unavailable; see /api/v1/health",
    }
    assert "pw-not-shown" not in health.text + rates.text
    assert alive.json() == {"status": "ok"}


async def test_a_configured_token_guards_the_api_but_not_liveness(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await write(db_sessions, [record("binance", "BTC", "0.0001")])
    token = "funding-token-for-the-test"
    async with api_client(db_sessions, token_hash=hash_token(token)) as client:
        missing = await client.get("/api/v1/rates")
        wrong = await client.get("/api/v1/rates", headers={"Authorization": "Bearer nope"})
        right = await client.get("/api/v1/rates", headers={"Authorization": f"Bearer {token}"})
        alive = await client.get("/health")
        schema = (await client.get("/openapi.json")).json()
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"] == "unauthorized"
    assert wrong.json()["message"] == "invalid bearer token"
    assert token not in wrong.text
    assert right.status_code == 200
    assert right.json()[0]["symbol"] == "BTC"
    assert alive.status_code == 200
    assert "bearer" in schema["components"]["securitySchemes"]
    async with api_client(db_sessions) as open_client:  # no token configured: open
        assert (await open_client.get("/api/v1/rates")).status_code == 200
