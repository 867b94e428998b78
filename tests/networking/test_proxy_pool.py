"""ProxyPool with RestTransport and ReconnectingWebSocket through real proxies on loopback.

The proxies are :class:`testing.proxies.LocalProxy` (SOCKS5 and HTTP CONNECT, with logins):
each counts the tunnels it opened, so "the traffic went through the proxy" is observed at the
proxy, and stopping one cuts its open tunnels like a dying proxy host.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from core.errors import RequestTimeout, VenueUnavailable
from core.redaction import Secret
from networking.backoff import Backoff
from networking.http import HttpRequest, RestTransport
from networking.proxy_pool import NoUsableProxy, PooledProxy, ProxyPool
from networking.websocket import ReconnectingWebSocket
from testing.proxies import LocalProxy, serve_ip_echo
from tests.networking.servers import serve
from tests.networking.test_websocket import FAST, GUARD, eventually, stream_server

PASSWORD = "pw-Zq81-never-shown"


class RecordingStore:
    """What the pool writes through its store (the runtime's is the database)."""

    def __init__(self) -> None:
        self.checks: list[tuple[int, str | None, str | None]] = []
        self.failures: list[tuple[int, int, str]] = []

    async def record_check(self, proxy: PooledProxy, error: str | None) -> None:
        self.checks.append((proxy.proxy_id, proxy.egress_ip, error))

    async def record_failure(self, proxy: PooledProxy) -> None:
        self.failures.append((proxy.proxy_id, proxy.failures, proxy.status))


@pytest.fixture
async def check_url() -> AsyncIterator[str]:
    async with serve_ip_echo() as url:
        yield url


@pytest.fixture
async def proxies() -> AsyncIterator[list[LocalProxy]]:
    started = [
        await LocalProxy("socks5", "alice", PASSWORD).start(),
        await LocalProxy("http", "alice", PASSWORD).start(),
    ]
    yield started
    for proxy in started:
        await proxy.stop()


def pool_of(
    local: list[LocalProxy], check_url: str, store: RecordingStore | None = None, **kwargs: Any
) -> ProxyPool:
    return ProxyPool(
        "acct-1",
        [
            PooledProxy(i + 1, Secret(p.url), f"{p.kind}://127.0.0.1:{p.port}")
            for i, p in enumerate(local)
        ],
        check_url=check_url,
        check_timeout=5.0,
        store=store,
        **{"check_interval": 0, **kwargs},
    )


class Venue:
    """A venue endpoint that counts what it processed and can ban or stall."""

    def __init__(self) -> None:
        self.orders = 0
        self.reads = 0
        self.ban_next = 0
        self.stall = asyncio.Event()
        self.stall.set()
        self.received = asyncio.Event()

    async def order(self, _: web.Request) -> web.Response:
        if self.ban_next:
            self.ban_next -= 1
            return web.Response(status=403, text="forbidden from your location")
        self.orders += 1
        self.received.set()
        await self.stall.wait()  # processed; the answer waits
        return web.json_response({"status": "ok"})

    async def read(self, _: web.Request) -> web.Response:
        self.reads += 1
        return web.json_response({"orders": self.orders})


@pytest.fixture
async def venue() -> AsyncIterator[tuple[Venue, str]]:
    state = Venue()
    async with serve([web.post("/order", state.order), web.get("/read", state.read)]) as url:
        yield state, url


def transport(url: str, pool: ProxyPool) -> RestTransport:
    return RestTransport("v", url, proxy_url=pool, backoff=FAST, timeout=5.0)


def assert_no_password(*texts: Any) -> None:
    for text in texts:
        assert PASSWORD not in str(text)
        assert "Zq81" not in str(text)


async def test_requests_go_through_the_current_proxy_checked_first(
    proxies: list[LocalProxy], check_url: str, venue: tuple[Venue, str]
) -> None:
    store = RecordingStore()
    pool = pool_of(proxies, check_url, store)
    rest = transport(venue[1], pool)
    await rest.open()
    try:
        for _ in range(3):
            answer = await rest.send(HttpRequest("GET", "/read"), idempotent=True)
            assert answer.status == 200
    finally:
        await rest.close()
    socks, http = proxies
    assert pool.current.endpoint == f"socks5://127.0.0.1:{socks.port}"
    assert pool.current.egress_ip == "127.0.0.1"
    assert store.checks == [(1, "127.0.0.1", None)]  # checked before first use, once
    assert venue[0].reads == 3
    # one tunnel for the check, one kept-alive tunnel for the three requests; none via http
    assert socks.connections == 2
    assert socks.targets[-1][1] == int(venue[1].rsplit(":", 1)[1])
    assert http.connections == 0


async def test_http_connect_proxies_carry_traffic_too(
    proxies: list[LocalProxy], check_url: str, venue: tuple[Venue, str]
) -> None:
    http = proxies[1]
    pool = pool_of([http], check_url)
    rest = transport(venue[1], pool)
    await rest.open()
    try:
        await rest.send(HttpRequest("GET", "/read"), idempotent=True)
    finally:
        await rest.close()
    assert http.connections == 2
    assert venue[0].reads == 1


async def test_killing_the_active_proxy_fails_over_to_the_next(
    proxies: list[LocalProxy], check_url: str, venue: tuple[Venue, str]
) -> None:
    store = RecordingStore()
    pool = pool_of(proxies, check_url, store)
    rest = transport(venue[1], pool)
    await rest.open()
    socks, http = proxies
    try:
        await rest.send(HttpRequest("GET", "/read"), idempotent=True)
        await socks.stop()
        with capture_logs() as logs:
            answer = await rest.send(HttpRequest("GET", "/read"), idempotent=True)
    finally:
        await rest.close()
    assert answer.json() == {"orders": 0}
    assert venue[0].reads == 2
    assert pool.current.endpoint == f"http://127.0.0.1:{http.port}"
    assert http.connections == 2  # its health check, then the request
    assert pool.failovers == 1
    assert store.failures == [(1, 1, "active")]
    failover = [line for line in logs if line["event"] == "proxy failover"]
    assert len(failover) == 1
    assert failover[0]["account"] == "acct-1"
    assert failover[0]["proxy"] == f"socks5://127.0.0.1:{socks.port}"
    assert_no_password(logs)


async def test_an_order_in_flight_when_the_proxy_dies_is_not_sent_again(
    proxies: list[LocalProxy], check_url: str, venue: tuple[Venue, str]
) -> None:
    state, url = venue
    pool = pool_of(proxies, check_url)
    rest = transport(url, pool)
    await rest.open()
    socks, _ = proxies
    state.stall.clear()
    try:
        sending = asyncio.create_task(
            rest.send(HttpRequest("POST", "/order", body="{}"), idempotent=False)
        )
        await asyncio.wait_for(state.received.wait(), GUARD)
        await socks.stop()  # the venue processed it; the answer can no longer come back
        with pytest.raises(RequestTimeout, match="connection lost") as raised:
            await asyncio.wait_for(sending, GUARD)
        state.stall.set()
        # the caller resolves by reading, which now goes through the next proxy
        answer = await rest.send(HttpRequest("GET", "/read"), idempotent=True)
    finally:
        await rest.close()
    assert state.orders == 1
    assert answer.json() == {"orders": 1}
    assert pool.failovers == 1
    assert_no_password(raised.value)


async def test_a_venue_ban_burns_the_proxy_and_the_refused_order_goes_through_the_next(
    proxies: list[LocalProxy], check_url: str, venue: tuple[Venue, str]
) -> None:
    state, url = venue
    store = RecordingStore()
    pool = pool_of(proxies, check_url, store)
    rest = transport(url, pool)
    await rest.open()
    state.ban_next = 1
    try:
        answer = await rest.send(HttpRequest("POST", "/order", body="{}"), idempotent=False)
    finally:
        await rest.close()
    assert answer.status == 200
    assert state.orders == 1  # the 403 was not processed; the retry was, once
    assert pool.proxies[0].status == "burned"
    assert store.failures == [(1, 1, "burned")]
    assert pool.current.proxy_id == 2


async def test_a_second_ban_in_a_row_is_the_venues_answer_not_another_failover(
    proxies: list[LocalProxy], check_url: str, venue: tuple[Venue, str]
) -> None:
    state, url = venue
    pool = pool_of(proxies, check_url)
    rest = transport(url, pool)
    await rest.open()
    state.ban_next = 2
    try:
        answer = await rest.send(HttpRequest("POST", "/order", body="{}"), idempotent=False)
    finally:
        await rest.close()
    assert answer.status == 403
    assert [p.status for p in pool.proxies] == ["burned", "active"]


async def test_a_venue_outage_behind_a_healthy_proxy_does_not_fail_over(
    proxies: list[LocalProxy], check_url: str
) -> None:
    pool = pool_of(proxies, check_url)
    async with serve([]) as url:
        dead_port = url.rsplit(":", 1)[1]
    rest = RestTransport(
        "v", f"http://127.0.0.1:{dead_port}", proxy_url=pool, backoff=FAST, retries=1
    )
    await rest.open()
    try:
        with pytest.raises(VenueUnavailable, match="the proxy refused"):
            await rest.send(HttpRequest("GET", "/read"), idempotent=True)
    finally:
        await rest.close()
    assert pool.failovers == 0
    assert pool.current.proxy_id == 1
    assert pool.proxies[0].failures == 0


async def test_a_proxy_down_at_start_is_skipped_and_all_down_is_one_line(
    proxies: list[LocalProxy], check_url: str
) -> None:
    socks, http = proxies
    await socks.stop()
    pool = pool_of(proxies, check_url)
    with capture_logs() as logs:
        assert (await pool.ensure_checked()).proxy_id == 2
    assert [line["proxy"] for line in logs if line["event"] == "proxy failed"] == [
        f"socks5://127.0.0.1:{socks.port}"
    ]
    await http.stop()
    down = pool_of(proxies, check_url)
    with pytest.raises(NoUsableProxy) as raised:
        await down.ensure_checked()
    message = str(raised.value)
    assert "\n" not in message
    assert "account acct-1" in message
    assert f"127.0.0.1:{socks.port}" in message
    assert f"127.0.0.1:{http.port}" in message
    assert_no_password(message, logs)


async def test_the_periodic_check_fails_over_and_revives_a_proxy_that_came_back(
    proxies: list[LocalProxy], check_url: str
) -> None:
    store = RecordingStore()
    pool = pool_of(proxies, check_url, store)
    socks, _ = proxies
    await pool.ensure_checked()
    await socks.stop()
    await pool.check_now()
    assert pool.current.proxy_id == 2
    assert pool.proxies[0].down
    await socks.start()  # the same port: the proxy host is back
    await pool.check_now()
    assert not pool.proxies[0].down  # usable again as a fallback
    assert pool.current.proxy_id == 2  # traffic is not moved back needlessly
    assert store.checks[-1][2] is None


async def test_a_monitor_runs_while_a_transport_uses_the_pool(
    proxies: list[LocalProxy], check_url: str, venue: tuple[Venue, str]
) -> None:
    pool = pool_of(proxies, check_url, check_interval=0.01)
    rest = transport(venue[1], pool)
    await rest.open()
    socks, _ = proxies
    try:
        await socks.stop()
        await eventually(lambda: pool.failovers == 1)  # no request needed to notice
    finally:
        await rest.close()
    assert pool._monitor is None


async def test_a_monitor_round_that_dies_is_logged_and_the_monitor_goes_on(
    proxies: list[LocalProxy], check_url: str
) -> None:
    """Rounds swallow the failures they expect (a failed check, a store write); one that dies
    anyway (here: injected, once) is logged by the pool's supervisor, and the monitor restarts."""
    store = RecordingStore()
    pool = pool_of(proxies, check_url, store, check_interval=0.01)
    await pool.ensure_checked()
    check_now = pool.check_now
    broken = {"once": True}

    async def round_dying_once() -> None:
        if broken["once"]:
            broken["once"] = False
            raise RuntimeError("a check round bug")
        await check_now()

    pool.check_now = round_dying_once  # type: ignore[method-assign]
    with capture_logs() as logs:
        pool.acquire()
        try:
            await eventually(lambda: pool.monitor_restarts == 1)
            seen = len(store.checks)
            await eventually(lambda: len(store.checks) >= seen + 2)  # rounds go on
        finally:
            await pool.release()
    failed = [e for e in logs if e["event"] == "background task failed"]
    assert [(e["component"], e["task"]) for e in failed] == [("proxy-pool:acct-1", "monitor")]
    assert pool._monitor is None
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert "proxy-pool:acct-1:monitor" not in names
    assert PASSWORD not in repr(logs)


async def test_consecutive_failures_burn_a_proxy(check_url: str) -> None:
    dead = await LocalProxy("socks5").start()
    await dead.stop()
    pool = pool_of([dead], check_url, burn_after=2)
    with pytest.raises(NoUsableProxy):
        await pool.ensure_checked()
    assert (pool.proxies[0].failures, pool.proxies[0].status) == (1, "active")
    await pool.check_now()
    assert (pool.proxies[0].failures, pool.proxies[0].status) == (2, "burned")
    with pytest.raises(NoUsableProxy, match="burned"):
        _ = pool.current


async def test_a_websocket_connects_through_the_pool_and_reconnects_via_the_next(
    proxies: list[LocalProxy], check_url: str
) -> None:
    socks, http = proxies
    pool = pool_of(proxies, check_url)
    received: list[Any] = []
    async with stream_server() as (server, url):
        ws = ReconnectingWebSocket(
            url,
            venue="v",
            on_message=received.append,
            proxy_url=pool,
            backoff=Backoff(initial=0.01, maximum=0.05, floor=0.005),
        )
        await ws.start()
        try:
            await server.push('{"n": 1}')
            await eventually(lambda: received == [{"n": 1}])
            assert socks.connections == 2  # check + the stream
            await socks.stop()  # the stream drops with it
            await eventually(lambda: ws.connections == 2 and ws.is_connected)
            await server.push('{"n": 2}')
            await eventually(lambda: {"n": 2} in received)
        finally:
            await ws.stop()
    assert http.connections == 2  # its check + the new stream
    assert pool.current.proxy_id == 2
    assert pool._monitor is None


async def test_a_websocket_handshake_ban_burns_the_proxy_and_start_goes_on(
    proxies: list[LocalProxy], check_url: str
) -> None:
    refused = 0

    async def handshake(request: web.Request) -> web.StreamResponse:
        nonlocal refused
        if refused == 0:
            refused += 1
            return web.Response(status=451)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.close()
        return ws

    pool = pool_of(proxies, check_url)
    async with serve([web.get("/ws", handshake)]) as url:
        ws = ReconnectingWebSocket(
            url.replace("http", "ws") + "/ws",
            venue="v",
            on_message=lambda _: None,
            proxy_url=pool,
            backoff=FAST,
        )
        await ws.start()
        await ws.stop()
    assert [p.status for p in pool.proxies] == ["burned", "active"]


async def test_without_a_pool_a_dead_static_proxy_is_a_clear_venue_error(
    check_url: str, venue: tuple[Venue, str]
) -> None:
    dead = await LocalProxy("socks5").start()
    await dead.stop()
    rest = RestTransport("v", venue[1], proxy_url=Secret(dead.url), backoff=FAST, retries=1)
    await rest.open()
    try:
        with pytest.raises(VenueUnavailable, match="cannot reach the proxy"):
            await rest.send(HttpRequest("GET", "/read"), idempotent=True)
    finally:
        await rest.close()


def test_the_pool_is_a_secret_that_never_shows_itself(
    proxies: list[LocalProxy], check_url: str
) -> None:
    pool = pool_of(proxies, check_url)
    assert repr(pool) == "Secret('***')"
    assert str(pool) == "***"
    assert pool == pool
    assert pool != pool_of(proxies, check_url)
    with pytest.raises(NoUsableProxy):
        pool.reveal()  # nothing checked yet: no current proxy
