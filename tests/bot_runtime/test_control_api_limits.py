"""Hostile input to the control API: oversized and deeply nested bodies, and the docs pages.

Why: a JSON body nested 100,000 deep once segfaulted a running bot (py_ecc had raised the
recursion limit to 100000, so the parser overflowed the C stack): supervisord restarted it and
nothing was cancelled or saved. The in-process tests pin each guard; the subprocess test pins
the outcome that matters - the real bot answers and keeps running.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot_runtime.control_api import MAX_BODY_BYTES, create_app
from bot_runtime.control_auth import hash_token, new_token
from networking.json_codec import MAX_DEPTH
from tests.bot_configs import paper_grid_yaml
from tests.bot_runtime.control_double import InMemoryBotControl
from tests.bot_runtime.test_runbot_e2e import TOKEN, eventually, free_port, running_bot

CLOSE = "/api/v1/positions/pos-btc/close"
DEEP_BODY = b"[" * 100_000 + b"]" * 100_000
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def token() -> str:
    return new_token()


@pytest.fixture
def app(token: str) -> FastAPI:
    return create_app(InMemoryBotControl(), hash_token(token))


@pytest.fixture
async def client(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bot",
        headers={"Authorization": f"Bearer {token}"},
    ) as http_client:
        yield http_client


async def test_a_declared_oversized_body_is_413_with_or_without_a_token(
    client: httpx.AsyncClient,
) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    for headers in ({}, {"Authorization": ""}):
        response = await client.post(CLOSE, content=body, headers=headers)
        assert response.status_code == 413
        assert response.json() == {
            "error": "content_too_large",
            "message": f"request body larger than {MAX_BODY_BYTES} bytes refused",
        }


async def test_a_streamed_body_without_length_is_counted_and_refused(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * (MAX_BODY_BYTES // 4)

    response = await client.post(CLOSE, content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_a_body_at_the_limit_still_reaches_the_handler(client: httpx.AsyncClient) -> None:
    body = b'{"mode": "market"' + b" " * (MAX_BODY_BYTES - 64) + b"}"
    response = await client.post(CLOSE, content=body, headers=JSON)
    assert response.status_code == 200, response.text


async def test_a_deeply_nested_body_is_400_and_names_the_bound(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(CLOSE, content=DEEP_BODY, headers=JSON)
    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_request",
        "message": f"request body: JSON nested deeper than {MAX_DEPTH} levels refused",
    }
    unauthenticated = await client.post(
        CLOSE, content=DEEP_BODY, headers={**JSON, "Authorization": ""}
    )
    assert unauthenticated.status_code == 401  # the token is still checked first


async def test_docs_pages_are_off_and_nothing_points_at_a_cdn(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "cdn" not in response.text.lower()
    document = await client.get("/openapi.json")
    assert document.status_code == 200
    assert "cdn" not in document.text.lower()
    assert "see /openapi.json" in (await client.get("/nowhere")).json()["message"]


async def test_docs_can_be_turned_on_for_a_developer(token: str) -> None:
    app = create_app(InMemoryBotControl(), hash_token(token), docs=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot"
    ) as http_client:
        assert (await http_client.get("/docs")).status_code == 200


# ---------------------------------------------------------------------------------------------
# the real bot process


async def _declare_huge_body(port: int) -> int:
    """Announce a 2 MiB body and send none: the answer must come from the headers alone.

    (Sending the bytes races the server's early answer and close: the client may see a reset.)
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = (
            f"POST {CLOSE} HTTP/1.1\r\nHost: bot\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {2 * MAX_BODY_BYTES}\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
        return int(status_line.split()[1])
    finally:
        writer.close()


@pytest.fixture
def bot(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    database = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    config = tmp_path / "grid.yml"
    extra = f"control_api:\n  enabled: true\n  port: {port}\n"
    config.write_text(paper_grid_yaml("limits-grid", extra=extra))
    log = tmp_path / "bot.log"
    with running_bot(config, tmp_path / "var", f"sqlite+aiosqlite:///{database}", log) as process:
        yield port, log
        assert process.poll() is None, log.read_text()[-2000:]


async def test_the_real_bot_survives_a_deep_and_a_huge_body(bot: tuple[int, Path]) -> None:
    port, log = bot
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
        trust_env=False,
    ) as api:
        await eventually(lambda: api.get("/health"), "the control API")
        deep = await api.post(CLOSE, content=DEEP_BODY, headers=JSON)
        assert deep.status_code == 400, deep.text
        assert await _declare_huge_body(port) == 413
        assert (await api.get("/health")).status_code == 200
        status = await api.get("/api/v1/status")
        assert status.json()["state"] == "running"
    assert "Segmentation" not in log.read_text()
