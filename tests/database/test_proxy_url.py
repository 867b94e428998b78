"""Proxy URL parsing: strict, and never echoing the URL (it carries a password)."""

from __future__ import annotations

import pytest

from database.errors import InvalidInput
from database.proxy_url import parse_proxy_url


def test_full_url_is_parsed_with_login_as_secrets() -> None:
    url = parse_proxy_url("SOCKS5://us%40er:p%3Ass-word-1@Proxy.Example.com:1080")
    assert (url.scheme, url.host, url.port) == ("socks5", "proxy.example.com", 1080)
    assert url.username is not None
    assert url.password is not None
    assert (url.username.reveal(), url.password.reveal()) == ("us@er", "p:ss-word-1")
    assert "p:ss-word-1" not in repr(url)
    assert url.endpoint == "socks5://proxy.example.com:1080"


def test_ipv6_and_no_login() -> None:
    url = parse_proxy_url("http://[::1]:3128")
    assert (url.host, url.username, url.endpoint) == ("::1", None, "http://[::1]:3128")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ftp://u:secretpw99@h:21", "missing or unsupported scheme"),
        ("u:secretpw99@h:1080", "missing or unsupported scheme"),
        ("socks5://u:secretpw99@:1080", "no host"),
        ("socks5://u:secretpw99@host", "no port"),
        ("socks5://u:secretpw99@host:99999", "malformed host or port"),
        ("socks5://u:secretpw99@host:1080/path", "unexpected path or query"),
        ("socks5://:secretpw99@host:1080", "a password needs a user name"),
    ],
)
def test_bad_urls_are_rejected_without_echoing_them(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_proxy_url(text)
    message = str(caught.value)
    assert message.startswith(f"invalid proxy URL: {problem}")
    assert "secretpw99" not in message
