"""Where the fleet keeps its files: everything under the project's ``var/`` (or PERPFLEET_VAR_DIR).

No sudo and nothing outside ``var/``: supervisord's configuration, socket, pid file and logs,
one program file per bot, the XML-RPC password and each bot's control-API token (files only the
owner can read: they are credentials).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.paths import var_dir


@dataclass(frozen=True)
class FleetLayout:
    root: Path  # the var/ directory

    @classmethod
    def default(cls) -> FleetLayout:
        return cls(var_dir())

    @property
    def supervisor_dir(self) -> Path:
        return self.root / "supervisor"

    @property
    def config_file(self) -> Path:
        return self.supervisor_dir / "supervisord.conf"

    @property
    def programs_dir(self) -> Path:
        return self.supervisor_dir / "programs"

    @property
    def logs_dir(self) -> Path:
        return self.supervisor_dir / "logs"

    @property
    def socket(self) -> Path:
        return self.supervisor_dir / "supervisord.sock"

    @property
    def pid_file(self) -> Path:
        return self.supervisor_dir / "supervisord.pid"

    @property
    def password_file(self) -> Path:
        return self.supervisor_dir / "rpc_password"

    @property
    def tokens_dir(self) -> Path:
        return self.root / "fleet" / "tokens"

    def program_name(self, bot: str) -> str:
        return f"bot-{bot}"

    def program_file(self, bot: str) -> Path:
        return self.programs_dir / f"{self.program_name(bot)}.conf"

    def bot_log(self, bot: str) -> Path:
        return self.logs_dir / f"{self.program_name(bot)}.log"

    def token_file(self, bot: str) -> Path:
        return self.tokens_dir / f"{bot}.token"

    def prepare(self) -> None:
        for directory in (self.programs_dir, self.logs_dir, self.tokens_dir):
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.supervisor_dir, 0o700)
        os.chmod(self.tokens_dir, 0o700)

    def rpc_password(self) -> str:
        """The XML-RPC password, created once (random) and kept for supervisorctl and restarts."""
        if not self.password_file.exists():
            write_private(self.password_file, secrets.token_urlsafe(24), replace=False)
        return self.password_file.read_text().strip()


def write_private(path: Path, text: str, *, replace: bool = True) -> None:
    """Write ``text`` to a file only its owner can read (created that way, never world-readable).

    The text goes to a private temporary file in the same directory, which then takes the
    file's name in one step: supervisord rereads its configuration and the program files while
    concurrent launches write them, and a file truncated in place was once read empty ("does
    not include supervisord section"). A reader sees the old file or the new one, whole.
    With ``replace=False`` an existing file is kept (the first writer wins: the RPC password
    two launches may create at once).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600; its name never ends in .conf, so no glob loads it.
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
