"""schemathesis against the control API of a real bot process (paper grid, live market).

The bot runs as ``runbot.py`` in a subprocess for the whole module; every route of its OpenAPI
document is called with generated inputs and a valid token, and none may answer 5xx. ``/stop``
and ``/kill`` are left out (each ends the bot mid-run, by design; the end-to-end and event-stream
process tests stop and kill bots themselves).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from database.migrate import upgrade
from tests.bot_runtime.test_runbot_e2e import TOKEN, free_port, grid
from tests.helpers import PROJECT_ROOT, cli_env


@pytest.fixture(scope="module")
def bot_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    import asyncio

    root = tmp_path_factory.mktemp("fuzzed-bot")
    url = f"sqlite+aiosqlite:///{root / 'bot.db'}"
    asyncio.run(upgrade(url))
    port = free_port()
    config = root / "grid.yml"
    config.write_text(grid(port))
    env = cli_env(root / "var", {"DATABASE_URL": url, "PERPFLEET_CONTROL_TOKEN": TOKEN})
    with (root / "bot.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "runbot.py", "--config", str(config), "--log-json"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, (root / "bot.log").read_text()
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=60)
    assert "Traceback" not in (root / "bot.log").read_text()


@pytest.fixture
def api_schema(bot_port: int) -> Any:
    return schemathesis.openapi.from_url(f"http://127.0.0.1:{bot_port}/openapi.json")


lazy_schema = schemathesis.pytest.from_fixture("api_schema")


@lazy_schema.exclude(path=["/api/v1/stop", "/api/v1/kill"]).parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_makes_the_real_bot_fail(case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code < 500, response.text
    assert TOKEN not in response.text
    case.validate_response(response)
