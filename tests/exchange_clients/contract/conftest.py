"""Every contract test runs once per venue harness."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.exchange_clients.contract.harness import HARNESSES, VenueHarness


@pytest.fixture(params=sorted(HARNESSES))
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[VenueHarness]:
    async with HARNESSES[request.param]() as harness:
        yield harness
