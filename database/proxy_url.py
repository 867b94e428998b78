"""Parsing proxy URLs (``socks5://user:pass@host:port``) without ever echoing them.

A proxy URL usually carries a password, so error messages describe what is
wrong and never repeat the input; the login parts come back as
:class:`~core.redaction.Secret` (registered for log scrubbing as soon
as they are parsed).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from core.redaction import Secret
from database.errors import InvalidInput
from database.models.proxies import PROXY_SCHEMES

_EXPECTED = (
    f"expected scheme://[user:password@]host:port with scheme one of {', '.join(PROXY_SCHEMES)}"
)


@dataclass(frozen=True)
class ProxyUrl:
    scheme: str
    host: str
    port: int
    username: Secret | None
    password: Secret | None

    @property
    def endpoint(self) -> str:
        """``scheme://host:port``: the part that is safe to show."""
        return f"{self.scheme}://{self._host_port}"

    def secret_url(self) -> Secret:
        """The whole URL, login included, as a :class:`Secret` (registered for scrubbing).

        A URL without a login holds nothing secret: it is not registered, or every log line
        naming the proxy's endpoint (what failover messages must show) would be scrubbed.
        """
        if self.username is None:
            return _PublicUrl(f"{self.scheme}://{self._host_port}")
        login = urllib.parse.quote(self.username.reveal(), safe="")
        if self.password is not None:
            login += ":" + urllib.parse.quote(self.password.reveal(), safe="")
        return Secret(f"{self.scheme}://{login}@{self._host_port}")

    @property
    def _host_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class _PublicUrl(Secret):
    """A loginless proxy URL where a :class:`Secret` is expected: shown as ``***`` all the
    same, but not registered for scrubbing (it is the endpoint logs must be able to name)."""

    __slots__ = ()

    def __init__(self, value: str) -> None:
        self._value = value


def parse_proxy_url(text: str) -> ProxyUrl:
    """Parse and validate a proxy URL; errors never include the URL itself."""
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise InvalidInput(f"invalid proxy URL: malformed host or port; {_EXPECTED}") from None
    # Register the login before anything else can fail, so no message can carry it.
    username = Secret(urllib.parse.unquote(parts.username)) if parts.username else None
    password = Secret(urllib.parse.unquote(parts.password)) if parts.password else None
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise InvalidInput(f"invalid proxy URL: missing or unsupported scheme; {_EXPECTED}")
    if not parts.hostname:
        raise InvalidInput(f"invalid proxy URL: no host; {_EXPECTED}")
    if port is None or port == 0:
        raise InvalidInput(f"invalid proxy URL: no port; {_EXPECTED}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(f"invalid proxy URL: unexpected path or query; {_EXPECTED}")
    if password is not None and username is None:
        raise InvalidInput(f"invalid proxy URL: a password needs a user name; {_EXPECTED}")
    return ProxyUrl(scheme, parts.hostname, port, username, password)
