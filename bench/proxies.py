"""What an account's proxy costs: a REST round trip direct vs through a SOCKS5 / HTTP CONNECT
proxy (the pool's transport, kept-alive tunnels), and how long a failover takes from the
moment the active proxy dies to the next answered request (dead proxy detected, next proxy
health-checked, new session, request sent). Everything on loopback: the figures are the
proxy layer's own cost, not a network's.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bench.harness import machine, report_percentiles
from core.logging_setup import configure_logging
from core.redaction import Secret
from networking.http import HttpRequest, RestTransport
from networking.proxy_pool import PooledProxy, ProxyPool
from testing.proxies import LocalProxy, ProxyKind, serve_ip_echo

ROUND_TRIPS = 400
FAILOVERS = 30


async def _serve() -> tuple[web.AppRunner, str]:
    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/ping", ok)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def _samples(work: Callable[[], Awaitable[object]], count: int) -> list[float]:
    await work()  # warm-up: the connection (and tunnel) is open from here
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - start)
    return samples


def _pool(proxies: list[LocalProxy], check_url: str) -> ProxyPool:
    return ProxyPool(
        "bench",
        [
            PooledProxy(i, Secret(p.url), f"{p.kind}://127.0.0.1:{p.port}")
            for i, p in enumerate(proxies)
        ],
        check_url=check_url,
        check_interval=0,
    )


async def _round_trips(url: str, check_url: str) -> None:
    ping = HttpRequest("GET", "/ping")
    direct = RestTransport("bench", url)
    await direct.open()
    try:
        report_percentiles(
            "REST round trip, direct",
            await _samples(lambda: direct.send(ping, idempotent=True), ROUND_TRIPS),
        )
    finally:
        await direct.close()
    kinds: tuple[ProxyKind, ...] = ("socks5", "http")
    for kind in kinds:
        proxy = await LocalProxy(kind, "bench", "bench-password").start()
        rest = RestTransport("bench", url, proxy_url=_pool([proxy], check_url))
        await rest.open()

        def send(transport: RestTransport = rest) -> Awaitable[object]:
            return transport.send(ping, idempotent=True)

        try:
            report_percentiles(
                f"REST round trip, through a {kind} proxy",
                await _samples(send, ROUND_TRIPS),
                "(kept-alive tunnel)",
            )
        finally:
            await rest.close()
            await proxy.stop()


async def _failovers(url: str, check_url: str) -> None:
    ping = HttpRequest("GET", "/ping")
    samples = []
    for _ in range(FAILOVERS):
        proxies = [await LocalProxy("socks5").start(), await LocalProxy("http").start()]
        rest = RestTransport("bench", url, proxy_url=_pool(proxies, check_url))
        await rest.open()
        try:
            await rest.send(ping, idempotent=True)
            await proxies[0].stop()
            start = time.perf_counter()
            await rest.send(ping, idempotent=True)
            samples.append(time.perf_counter() - start)
        finally:
            await rest.close()
            for proxy in proxies:
                await proxy.stop()
    report_percentiles("failover: proxy killed -> next request answered", samples)


async def _run() -> None:
    runner, url = await _serve()
    try:
        async with serve_ip_echo() as check_url:
            await _round_trips(url, check_url)
            await _failovers(url, check_url)
    finally:
        await runner.cleanup()


def main() -> None:
    # Every failover is killed on purpose: its warnings are the expected path.
    configure_logging(level="ERROR", stream=sys.stderr)
    sys.stdout.write(f"proxies ({machine()}; loopback venue and proxies)\n")
    asyncio.run(_run())


if __name__ == "__main__":
    main()
