"""The proxy health check through a real SOCKS5 proxy on loopback, and egress IP parsing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.proxy_check import ProxyCheckFailed, check_proxy, egress_ip
from core.redaction import Secret
from testing.proxies import LocalProxy, ProxyKind, serve_ip_echo

PASSWORD = "pw-Zq81-never-shown"


@pytest.fixture
async def check_url() -> AsyncIterator[str]:
    async with serve_ip_echo() as url:
        yield url


async def test_a_passing_check_reads_the_egress_ip_through_the_proxy(check_url: str) -> None:
    kinds: tuple[ProxyKind, ...] = ("socks5", "http")
    for kind in kinds:
        proxy = await LocalProxy(kind, "alice", PASSWORD).start()
        try:
            assert await check_proxy(Secret(proxy.url), check_url=check_url) == "127.0.0.1"
        finally:
            await proxy.stop()
        assert proxy.connections == 1


async def test_a_wrong_login_fails_the_check_without_echoing_it(check_url: str) -> None:
    socks = await LocalProxy("socks5", "alice", PASSWORD).start()
    wrong = Secret(f"socks5://alice:wrong-{PASSWORD}@127.0.0.1:{socks.port}")
    try:
        with pytest.raises(ProxyCheckFailed, match="refused") as raised:
            await check_proxy(wrong, check_url=check_url)
    finally:
        await socks.stop()
    assert socks.refused_logins == 1
    assert PASSWORD not in str(raised.value)


async def test_a_proxy_that_is_not_running_is_named_as_such(check_url: str) -> None:
    dead = await LocalProxy("http").start()
    await dead.stop()
    with pytest.raises(ProxyCheckFailed, match="refused the connection"):
        await check_proxy(Secret(dead.url), check_url=check_url)


def test_egress_ip_reads_plain_and_json_answers() -> None:
    assert egress_ip("203.0.113.9\n") == "203.0.113.9"
    assert egress_ip('{"ip": "2001:db8::1"}') == "2001:db8::1"
    with pytest.raises(ProxyCheckFailed, match="IP address"):
        egress_ip("<html>blocked</html>")


async def test_socks5h_resolves_at_the_proxy_and_https_proxies_are_refused_clearly(
    check_url: str,
) -> None:
    proxy = await LocalProxy("socks5", "alice", PASSWORD).start()
    try:
        remote_dns = Secret(f"socks5h://alice:{PASSWORD}@127.0.0.1:{proxy.port}")
        by_name = check_url.replace("127.0.0.1", "localhost")
        assert await check_proxy(remote_dns, check_url=by_name) == "127.0.0.1"
    finally:
        await proxy.stop()
    assert proxy.targets[0][0] == "localhost"  # the name went to the proxy, not our resolver
    with pytest.raises(ProxyCheckFailed, match=r"https:// proxies .* not supported") as raised:
        await check_proxy(Secret(f"https://alice:{PASSWORD}@127.0.0.1:1"), check_url=check_url)
    assert PASSWORD not in str(raised.value)
