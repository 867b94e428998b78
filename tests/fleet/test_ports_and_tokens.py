"""Control ports and tokens of fleet bots (issue 13, items 13 and 15), with a real supervisord.

A port another process took after the fleet handed it out is detected when the bot binds it:
the bot listens on another one and records it, and the fleet's client finds it there. The
client checks that whoever answers is the bot it expects. The token never appears in the
program file nor in the bot's environment: only the path of its 0600 file does.
"""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from fleet.api import FleetError
from fleet.control_client import HttpControlClient
from fleet.manager import FleetManager
from tests.fleet.conftest import write_config


def environment_of(pid: int) -> bytes:
    """The environment a process was started with, as the kernel shows it to its owner."""
    return Path(f"/proc/{pid}/environ").read_bytes()


async def test_a_port_taken_at_bind_time_is_replaced_and_the_client_checks_who_answers(
    idle_fleet: FleetManager, tmp_path: Path
) -> None:
    fleet = idle_fleet
    first = await fleet.launch(write_config(tmp_path, "fleet-p1"))
    second = await fleet.launch(write_config(tmp_path, "fleet-p2"))
    assert first.control_port is not None
    assert second.control_port is not None

    # Item 13.13: the token is in a 0600 file; program file and environment hold its path.
    token_file = fleet.layout.token_file("fleet-p1")
    token = token_file.read_text().strip()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    program = fleet.layout.program_file("fleet-p1").read_text()
    assert token not in program
    assert f'PERPFLEET_CONTROL_TOKEN_FILE="{token_file}"' in program
    assert first.pid is not None
    environ = environment_of(first.pid)
    assert token.encode() not in environ
    assert f"PERPFLEET_CONTROL_TOKEN_FILE={token_file}".encode() in environ.split(b"\0")

    # Item 13.15: fleet-p1's port is taken while it is stopped; restarted, it binds another.
    await fleet.stop("fleet-p1")
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", first.control_port))
        squatter.listen()
        back = await fleet.restart("fleet-p1")
        assert back.state == "RUNNING"
        assert back.control_port not in (None, first.control_port, second.control_port)
        status = await fleet.control("fleet-p1").status()
        assert status.name == "fleet-p1"
        assert await fleet.control("fleet-p1").orders() is not None

    # Whoever answers on a port is checked: another bot's port, with our token or with its.
    with pytest.raises(FleetError, match=r"refused fleet-p1's token: it is not fleet-p1"):
        await HttpControlClient("fleet-p1", second.control_port, token).orders()
    theirs = fleet.layout.token_file("fleet-p2").read_text().strip()
    with pytest.raises(FleetError, match=r"answers as bot 'fleet-p2', not 'fleet-p1'"):
        await HttpControlClient("fleet-p1", second.control_port, theirs).pause()
    assert (await fleet.control("fleet-p2").status()).state == "running"  # not paused
