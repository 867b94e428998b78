"""RestTransport against a real local HTTP server: what is retried, what is not, what it raises."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from aiohttp import web

from core.errors import RateLimited, RequestTimeout, VenueUnavailable
from networking.backoff import Backoff
from networking.http import HttpRequest, RestTransport
from networking.rate_limit import TokenBucket
from tests.networking.servers import never_answer, serve

FAST = Backoff(initial=0.01, maximum=0.02, floor=0.005)


class Script:
    """Answers a route with the scripted statuses in turn, then 200; counts the calls."""

    def __init__(self, *statuses: int, retry_after: str | None = None) -> None:
        self.statuses = list(statuses)
        self.retry_after = retry_after
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.query_string)
        if self.statuses:
            status = self.statuses.pop(0)
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.Response(status=status, text='{"msg":"no"}', headers=headers)
        return web.json_response(text='{"price": 64123.50, "id": 12345678901234567890}')


def transport(url: str, **kwargs: object) -> RestTransport:
    return RestTransport("testvenue", url, backoff=FAST, **kwargs)  # type: ignore[arg-type]


async def test_json_numbers_arrive_as_decimal_and_big_ints_stay_exact() -> None:
    script = Script()
    async with serve([web.get("/x", script.handle)]) as url:
        rest = transport(url)
        await rest.open()
        answer = (await rest.send(HttpRequest("GET", "/x"), idempotent=True)).json()
        await rest.close()
    assert answer == {"price": Decimal("64123.50"), "id": 12345678901234567890}
    assert isinstance(answer["price"], Decimal)


async def test_throttled_requests_wait_retry_after_and_are_retried_even_for_orders() -> None:
    script = Script(429, 429, retry_after="0.2")
    bucket = TokenBucket(rate=1000, capacity=10)
    async with serve([web.post("/order", script.handle)]) as url:
        rest = transport(url, limiter=bucket)
        await rest.open()
        started = time.monotonic()
        answer = await rest.send(HttpRequest("POST", "/order"), idempotent=False)
        waited = time.monotonic() - started
        await rest.close()
    assert answer.status == 200
    assert len(script.seen) == 3
    assert waited >= 0.4  # two Retry-After pauses honoured (a lower bound, not a speed limit)


async def test_throttling_that_never_ends_raises_rate_limited_with_the_wait() -> None:
    script = Script(*([418] * 10), retry_after="0")
    async with serve([web.get("/x", script.handle)]) as url:
        rest = transport(url, retries=2)
        await rest.open()
        with pytest.raises(RateLimited, match="HTTP 418") as caught:
            await rest.send(HttpRequest("GET", "/x?signature=abc"), idempotent=True)
        await rest.close()
    assert caught.value.retry_after == 0
    assert len(script.seen) == 3
    assert "signature" not in str(caught.value)


async def test_server_errors_are_retried_for_reads_but_never_for_orders() -> None:
    reads, orders = Script(502, 503), Script(503)
    async with serve([web.get("/read", reads.handle), web.post("/order", orders.handle)]) as url:
        rest = transport(url)
        await rest.open()
        assert (await rest.send(HttpRequest("GET", "/read"), idempotent=True)).status == 200
        with pytest.raises(RequestTimeout, match="outcome unknown"):
            await rest.send(HttpRequest("POST", "/order?secretish=1"), idempotent=False)
        await rest.close()
    assert len(reads.seen) == 3
    assert len(orders.seen) == 1  # never sent twice: the first may have landed


async def test_a_read_that_keeps_failing_reports_the_venue_unavailable() -> None:
    async with serve([web.get("/read", Script(*([500] * 10)).handle)]) as url:
        rest = transport(url, retries=1)
        await rest.open()
        with pytest.raises(VenueUnavailable, match="testvenue: GET /read: HTTP 500"):
            await rest.send(HttpRequest("GET", "/read"), idempotent=True)
        await rest.close()


async def test_timeouts_leave_orders_unresolved_and_retry_reads() -> None:
    calls: list[int] = []

    async def slow(request: web.Request) -> web.Response:
        calls.append(1)
        return await never_answer(request)

    async with serve([web.post("/order", slow), web.get("/read", slow)]) as url:
        rest = transport(url, timeout=0.2, retries=1)
        await rest.open()
        with pytest.raises(RequestTimeout, match=r"no answer within 0\.2 s"):
            await rest.send(HttpRequest("POST", "/order"), idempotent=False)
        assert len(calls) == 1
        with pytest.raises(RequestTimeout):
            await rest.send(HttpRequest("GET", "/read"), idempotent=True)
        assert len(calls) == 3
        await rest.close()


async def test_unreachable_venue_is_retried_then_unavailable() -> None:
    async with serve([]) as url:
        pass  # the port is closed now
    rest = transport(url, retries=2)
    await rest.open()
    with pytest.raises(VenueUnavailable, match="cannot connect"):
        await rest.send(HttpRequest("POST", "/order"), idempotent=False)
    await rest.close()


async def test_each_attempt_rebuilds_the_request_so_signatures_are_fresh() -> None:
    script = Script(429, retry_after="0")
    built: list[int] = []

    def build() -> HttpRequest:
        built.append(len(built))
        return HttpRequest("GET", f"/x?timestamp={len(built)}")

    async with serve([web.get("/x", script.handle)]) as url:
        rest = transport(url)
        await rest.open()
        await rest.send(build, idempotent=True)
        await rest.close()
    assert script.seen == ["timestamp=1", "timestamp=2"]


async def test_client_errors_come_back_for_the_venue_client_to_interpret() -> None:
    async with serve([web.get("/x", Script(400, 401).handle)]) as url:
        rest = transport(url)
        await rest.open()
        first = await rest.send(HttpRequest("GET", "/x"), idempotent=True)
        second = await rest.send(HttpRequest("GET", "/x"), idempotent=True)
        await rest.close()
    assert (first.status, second.status) == (400, 401)
    assert first.json() == {"msg": "no"}


async def test_sending_before_open_is_a_clear_error() -> None:
    with pytest.raises(VenueUnavailable, match="not connected"):
        await RestTransport("v", "http://127.0.0.1:9").send(
            HttpRequest("GET", "/"), idempotent=True
        )
