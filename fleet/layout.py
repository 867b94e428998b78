"""Where the fleet keeps its files: everything under the project's ``var/`` (or PERPFLEET_VAR_DIR).

No sudo and nothing outside ``var/``: supervisord's configuration, socket, pid file and logs,
one program file per bot, the XML-RPC password and each bot's control-API token (files only the
owner can read: they are credentials).
"""

from __future__ import annotations

import os
import secrets
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
            write_private(self.password_file, secrets.token_urlsafe(24))
        return self.password_file.read_text().strip()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read (created that way, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
