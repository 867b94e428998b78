"""Unknown query parameters are refused by name, after authentication, for every route of a
router that adds :func:`refuse_unknown_query` - its own parameters, its dependencies' and
aliases count as known."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from bot_runtime.control_api import describe_problem
from bot_runtime.strict_query import NAME_SHOWN, refuse_unknown_query
from core.redaction import forget_all_secrets, register_secret


def _authenticate(authorization: Annotated[str | None, Header()] = None) -> None:
    if authorization != "Bearer ok":
        raise HTTPException(401, "no")


def _window(since: int = 0, until: Annotated[int, Query(alias="to")] = 9) -> tuple[int, int]:
    return since, until


async def _problems(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"problems": [describe_problem(e) for e in exc.errors()]}, 422)


@asynccontextmanager
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, _problems)
    api = APIRouter(dependencies=[Depends(_authenticate), Depends(refuse_unknown_query)])

    @api.get("/rates")
    async def rates(
        venue: str | None = None, window: tuple[int, int] = Depends(_window)
    ) -> dict[str, object]:
        return {"venue": venue, "window": list(window)}

    @api.get("/plain")
    async def plain() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(api)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        http.headers["Authorization"] = "Bearer ok"
        yield http


async def test_declared_parameters_their_dependencies_and_aliases_pass() -> None:
    async with client() as http:
        answer = await http.get("/rates", params={"venue": "binance", "since": 1, "to": 5})
    assert answer.status_code == 200
    assert answer.json() == {"venue": "binance", "window": [1, 5]}


async def test_a_misspelt_parameter_is_422_naming_it_and_the_expected_ones() -> None:
    async with client() as http:
        misspelt = await http.get("/rates", params={"venu": "binance"})
        two = await http.get("/rates", params={"until": 3, "venu": "x", "venue": "y"})
        none_expected = await http.get("/plain", params={"page": 2})
    assert misspelt.status_code == 422
    assert misspelt.json()["problems"] == [
        "query.venu: unknown query parameter (expected: since, to, venue)"
    ]
    assert two.json()["problems"] == [
        "query.until: unknown query parameter (expected: since, to, venue)",
        "query.venu: unknown query parameter (expected: since, to, venue)",
    ]
    assert none_expected.json()["problems"] == [
        "query.page: unknown query parameter (expected: none)"
    ]


async def test_a_stranger_is_refused_before_the_parameters_are_described() -> None:
    async with client() as http:
        answer = await http.get(
            "/rates", params={"venu": "x"}, headers={"Authorization": "Bearer wrong"}
        )
    assert answer.status_code == 401
    assert "venue" not in answer.text


@pytest.fixture
def registry() -> Iterator[None]:
    forget_all_secrets()
    yield
    forget_all_secrets()


@pytest.mark.usefixtures("registry")
async def test_an_unknown_name_is_shown_scrubbed_and_cut() -> None:
    secret = "s3cr3t-value-in-a-parameter-name"
    register_secret(secret)
    async with client() as http:
        answer = await http.get("/plain", params={secret: "1", "x" * 500: "2"})
    problems = answer.json()["problems"]
    assert secret not in answer.text
    assert problems[0] == "query.***: unknown query parameter (expected: none)"
    assert problems[1] == f"query.{'x' * NAME_SHOWN}: unknown query parameter (expected: none)"


async def test_each_route_is_held_to_its_own_parameters_across_apps() -> None:
    """Apps built and dropped one after another (as a test suite does): what was learnt of a
    freed route must never answer for another (a cache keyed by object id did, once Python
    reused the id: the funding API's tests failed at random on it)."""
    for round_ in range(40):
        name = f"p{round_}"

        # The alias as a default, evaluated now (this module's annotations are strings).
        async def read(value: str | None = Query(None, alias=name)) -> str | None:
            return value

        app = FastAPI()
        api = APIRouter(dependencies=[Depends(refuse_unknown_query)])
        api.add_api_route("/r", read, methods=["GET"])
        app.include_router(api)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            answer = await http.get("/r", params={name: "1"})
        assert (answer.status_code, answer.json()) == (200, "1"), (round_, answer.text)
        del app, api, transport
        gc.collect()
