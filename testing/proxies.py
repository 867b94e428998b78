"""Real outbound proxies on loopback for tests and benchmarks: SOCKS5 and HTTP CONNECT.

A bot's account traffic goes through the proxies assigned to the account (aiohttp-socks on the
client side). To show that it really does, a test needs a proxy it can watch and kill: each
:class:`LocalProxy` counts the tunnels it opened and where to, checks the login the way a paid
proxy does (SOCKS5 user/password, RFC 1929; HTTP ``Proxy-Authorization: Basic``), and
:meth:`LocalProxy.stop` drops every open tunnel at once, like a proxy host that dies.

:func:`serve_ip_echo` is the health-check target: it answers every request with the address
it was reached from (``api.ipify.org``'s plain-text answer), the "egress IP" of the caller.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import struct
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

ProxyKind = Literal["socks5", "http"]
SOCKS_VERSION = 5
NO_AUTH, USER_PASSWORD, NO_ACCEPTABLE = 0x00, 0x02, 0xFF


@dataclass
class LocalProxy:
    """One proxy on ``127.0.0.1``; ``port`` 0 picks a free one on the first :meth:`start`."""

    kind: ProxyKind
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int = 0
    connections: int = 0
    """Tunnels opened to a destination (a refused login is not counted)."""
    targets: list[tuple[str, int]] = field(default_factory=list)
    refused_logins: int = 0
    _server: asyncio.Server | None = field(default=None, repr=False)
    _open: set[asyncio.StreamWriter] = field(default_factory=set, repr=False)

    @property
    def url(self) -> str:
        """The URL a client is given, login included."""
        login = ""
        if self.username is not None:
            login = urllib.parse.quote(self.username, safe="")
            if self.password is not None:
                login += ":" + urllib.parse.quote(self.password, safe="")
            login += "@"
        return f"{self.kind}://{login}127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> LocalProxy:
        """Listen (again, on the same port after a :meth:`stop`)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and cut every open tunnel: the proxy host died."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            upstream = await (
                self._socks5(reader, writer)
                if self.kind == "socks5"
                else self._connect(reader, writer)
            )
            if upstream is not None:
                await _pipe(reader, writer, *upstream)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self._open.discard(writer)
            writer.transport.abort()

    async def _open_tunnel(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            upstream = await asyncio.open_connection(host, port)
        except OSError:
            return None
        self.connections += 1
        self.targets.append((host, port))
        self._open.add(upstream[1])
        return upstream

    async def _socks5(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != SOCKS_VERSION:
            return None
        wanted = NO_AUTH if self.username is None else USER_PASSWORD
        if wanted not in methods:
            writer.write(bytes([SOCKS_VERSION, NO_ACCEPTABLE]))
            return None
        writer.write(bytes([SOCKS_VERSION, wanted]))
        if wanted == USER_PASSWORD:
            _, user_length = await reader.readexactly(2)
            user = (await reader.readexactly(user_length)).decode()
            (password_length,) = await reader.readexactly(1)
            password = (await reader.readexactly(password_length)).decode()
            ok = user == self.username and password == (self.password or "")
            writer.write(bytes([1, 0 if ok else 1]))
            if not ok:
                self.refused_logins += 1
                return None
        _, command, _, address_type = await reader.readexactly(4)
        if address_type == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif address_type == 3:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode()
        else:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        upstream = await self._open_tunnel(host, port) if command == 1 else None
        reply = 0 if upstream is not None else (5 if command == 1 else 7)
        writer.write(bytes([SOCKS_VERSION, reply, 0, 1, 0, 0, 0, 0, 0, 0]))
        await writer.drain()
        return upstream

    async def _connect(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:] if line)
        }
        if self.username is not None:
            expected = base64.b64encode(f"{self.username}:{self.password or ''}".encode()).decode()
            if headers.get("proxy-authorization") != f"Basic {expected}":
                self.refused_logins += 1
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                await writer.drain()
                return None
        if method.upper() != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            await writer.drain()
            return None
        host, _, port = target.rpartition(":")
        upstream = await self._open_tunnel(host.strip("[]"), int(port))
        status = b"200 Connection established" if upstream is not None else b"502 Bad Gateway"
        writer.write(b"HTTP/1.1 " + status + b"\r\n\r\n")
        await writer.drain()
        return upstream


async def _pipe(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    upstream_reader: asyncio.StreamReader,
    upstream_writer: asyncio.StreamWriter,
) -> None:
    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        finally:
            sink.transport.abort()

    try:
        await asyncio.gather(
            copy(client_reader, upstream_writer),
            copy(upstream_reader, client_writer),
            return_exceptions=True,
        )
    finally:
        upstream_writer.transport.abort()


@asynccontextmanager
async def serve_ip_echo() -> AsyncIterator[str]:
    """A health-check target on loopback answering with the caller's address; yields its URL."""

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.remote or "")

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()
