"""Start, stop and show the service programs of :mod:`fleet.services` on the fleet's supervisord.

``start`` checks what it can before anything runs (a known service, a free port), writes the
program file and waits until supervisord holds the process RUNNING (it must survive its first
3 s) and the service answers its health URL: a service that exits at once (a bad setting, the
database not migrated) is reported with the last lines of its log, then unloaded and its file
removed, so neither supervisord nor ``fleet up`` keeps restarting it. ``status`` starts
nothing; with supervisord down every service is STOPPED.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
import xmlrpc.client
from contextlib import suppress
from typing import Any

from core.redaction import scrub
from fleet.api import FleetError, FleetUserError
from fleet.manager import ACTIVE_STATES, FleetManager
from fleet.ports import port_is_free
from fleet.services import (
    SERVICE_PROGRAMS,
    ServiceInfo,
    ServiceProgram,
    health_url,
    program_port,
    service_environment,
    service_names,
    service_program_conf,
)

START_TIMEOUT_SECONDS = 60.0
FAILED_STATES = ("BACKOFF", "FATAL", "EXITED")
LOG_TAIL_LINES = 5


def service(name: str) -> ServiceProgram:
    try:
        return SERVICE_PROGRAMS[name]
    except KeyError:
        known = ", ".join(service_names())
        raise FleetUserError(f"no such service: {name!r} (known: {known})") from None


class ServiceControl:
    """The service programs of one fleet (its supervisord, its ``var/``)."""

    def __init__(self, fleet: FleetManager) -> None:
        self.fleet = fleet

    def _file(self, spec: ServiceProgram) -> Any:
        return self.fleet.layout.programs_dir / f"{spec.program}.conf"

    def _log(self, spec: ServiceProgram) -> Any:
        return self.fleet.layout.logs_dir / f"{spec.program}.log"

    async def status(self, name: str) -> ServiceInfo:
        spec = service(name)
        processes = await self.fleet._processes()
        return await self._info(spec, processes.get(spec.program))

    async def statuses(self) -> list[ServiceInfo]:
        processes = await self.fleet._processes()
        return [await self._info(spec, processes.get(spec.program)) for spec in _all()]

    async def start(
        self, name: str, environ: dict[str, str], port: int | None = None
    ) -> tuple[ServiceInfo, bool]:
        """Start ``name`` (its settings from ``environ``); the info, and False when it was
        already running (then nothing changes)."""
        spec = service(name)
        current = await self.status(name)
        if current.state in ACTIVE_STATES and current.set_up:
            return current, False
        listen = port if port is not None else spec.port
        if not port_is_free(listen):
            raise FleetUserError(
                f"port {listen} is in use on 127.0.0.1 (another {name} service, started "
                f"outside the fleet?): stop it, or start this one with --port"
            )
        conf = service_program_conf(
            self.fleet.layout, spec, listen, service_environment(spec, environ)
        )
        await self.fleet._start_service(spec.program, conf)
        try:
            info = await self._wait_started(spec)
        except FleetError:
            await self._unload(spec)
            raise
        return info, True

    async def stop(self, name: str) -> ServiceInfo:
        """Stop ``name`` and remove its program (``fleet up`` no longer starts it)."""
        spec = service(name)
        await self._unload(spec)
        return await self.status(name)

    async def _unload(self, spec: ServiceProgram) -> None:
        if await self.fleet.supervisord_running():
            loaded = {info["name"] for info in await self.fleet.rpc.call("getAllProcessInfo")}
            if spec.program in loaded:
                with suppress(xmlrpc.client.Fault):  # NOT_RUNNING: already stopped
                    await self.fleet.rpc.call("stopProcess", spec.program, True)
                await self.fleet.rpc.call("removeProcessGroup", spec.program)
        self._file(spec).unlink(missing_ok=True)

    async def _wait_started(self, spec: ServiceProgram) -> ServiceInfo:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            process = await self.fleet.rpc.call("getProcessInfo", spec.program)
            state = process["statename"]
            if state in FAILED_STATES:
                raise FleetError(
                    f"the {spec.name} service did not start ({state}); its log says:\n"
                    + self._tail(spec)
                )
            if state == "RUNNING":
                info = await self._info(spec, process)
                if info.answering:
                    return info
            await asyncio.sleep(0.2)
        raise FleetError(
            f"the {spec.name} service did not answer {health_url(self._port(spec))} within "
            f"{START_TIMEOUT_SECONDS:g} s; its log says:\n" + self._tail(spec)
        )

    def _tail(self, spec: ServiceProgram) -> str:
        try:
            text = self._log(spec).read_text(errors="replace")
        except OSError:
            return "(no log)"
        lines = [line for line in text.splitlines() if line.strip()][-LOG_TAIL_LINES:]
        return scrub("\n".join(lines)) or "(empty log)"

    def _port(self, spec: ServiceProgram) -> int:
        try:
            return program_port(self._file(spec).read_text()) or spec.port
        except OSError:
            return spec.port

    async def _info(self, spec: ServiceProgram, process: dict[str, Any] | None) -> ServiceInfo:
        state = process["statename"] if process else "STOPPED"
        uptime = None
        if process and state == "RUNNING":
            uptime = float(process["now"] - process["start"])
        url = health_url(self._port(spec))
        answering = await _answers(url) if state == "RUNNING" else None
        detail = None
        if process and state in FAILED_STATES:
            detail = scrub(str(process.get("spawnerr") or "")) or self._tail(spec)
        return ServiceInfo(
            name=spec.name,
            program=spec.program,
            state=state,
            set_up=self._file(spec).exists(),
            pid=(process.get("pid") or None) if process else None,
            uptime_seconds=uptime,
            log=str(self._log(spec)),
            health_url=url,
            answering=answering,
            detail=detail,
        )


def _all() -> list[ServiceProgram]:
    return [SERVICE_PROGRAMS[name] for name in service_names()]


async def _answers(url: str) -> bool:
    """Whether ``url`` answers 200 within 2 s (a thread: the stdlib client blocks)."""

    def get() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our URL
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    return await asyncio.to_thread(get)
