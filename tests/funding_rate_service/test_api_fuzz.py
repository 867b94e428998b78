"""schemathesis against the API of a real ``python -m funding_rate_service`` process.

The service collects the two paper venues and has a week of hourly history for BTC on
hyperliquid and binance (written with the storage's upsert before it starts); every route of
its OpenAPI document is called with generated inputs, and none may answer 5xx or break the
documented schema (schemathesis' default checks, two left out: see below).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from database.engine import create_engine, session_maker
from tests.bot_runtime.test_runbot_e2e import free_port
from tests.funding_rate_service.api_rig import HOUR, NOW, record, write
from tests.funding_rate_service.service_process import migrated_sqlite, running_service


async def seed(url: str) -> None:
    engine = create_engine(url)
    try:
        rows = [
            record(venue, "BTC", rate, interval=1, at=NOW - hours * HOUR)
            for hours in range(24 * 7)
            for venue, rate in (("hyperliquid", "0.00001"), ("binance", "-0.00002"))
        ]
        await write(session_maker(engine), rows)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("fuzzed-funding")
    url = migrated_sqlite(root)
    asyncio.run(seed(url))
    args = ["--venues", "paper_a,paper_b", "--interval-seconds", "5", "--backfill-days", "0"]
    with running_service(root, free_port(), args, {"DATABASE_URL": url}) as service:
        yield service.url


@pytest.fixture
def api_schema(service_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{service_url}/openapi.json")


lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@lazy_schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_makes_the_service_fail(case: Any) -> None:
    response = case.call(timeout=30)
    assert response.status_code < 500 or response.status_code == 503, response.text
    # Two checks are left out, for what OpenAPI cannot state. positive_data_acceptance: start
    # < end, the 2000-2200 bounds and the longest range relate two parameters or a date's value,
    # so a generated pair that breaks them is a correct 422. negative_data_rejection: a query
    # string has no types - ``symbols=false`` is a string as much as a boolean, and a valid
    # symbol. The 422s are tested one by one in test_api.py. Every other check runs.
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance, negative_data_rejection]
    )
