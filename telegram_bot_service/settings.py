"""Where the Telegram service gets its token, its Bot API address and its config folder.

The token is read from ``TELEGRAM_BOT_TOKEN`` only (never a flag: shell history, ``ps``) and
registered as a secret the moment it is read, so it is scrubbed from every log line — it also
appears in every Bot API URL. ``TELEGRAM_API_BASE_URL`` points the service at another Bot API
server (a self-hosted one, or the fake one in tests).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from core.paths import PROJECT_ROOT
from core.redaction import Secret

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"  # noqa: S105 - the variable's name, not a token
BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
CONFIGS_DIR_ENV = "PERPFLEET_CONFIGS_DIR"
DEFAULT_API_BASE_URL = "https://api.telegram.org"
DEFAULT_CONFIGS_DIR = PROJECT_ROOT / "configs"


@dataclass(frozen=True)
class TelegramSettings:
    """The bot's token and the Bot API server (its root URL, e.g. https://api.telegram.org)."""

    token: Secret
    api_base_url: str = DEFAULT_API_BASE_URL

    @property
    def bot_url(self) -> str:
        """PTB's ``base_url``: PTB appends the token (``<root>/bot<token>/<method>``)."""
        return f"{self.api_base_url.rstrip('/')}/bot"

    @property
    def file_url(self) -> str:
        """PTB's ``base_file_url``."""
        return f"{self.api_base_url.rstrip('/')}/file/bot"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TelegramSettings:
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_ENV, "").strip()
        if not token:
            raise ConfigError(
                f"{TOKEN_ENV} is not set: put the bot token from @BotFather in the environment"
            )
        base_url = env.get(BASE_URL_ENV, "").strip() or DEFAULT_API_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{BASE_URL_ENV} must be an http(s) URL, not {base_url!r}")
        return cls(token=Secret(token), api_base_url=base_url)


def configs_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The folder of bot configs offered by /launch and written by /new_config."""
    env = os.environ if environ is None else environ
    configured = env.get(CONFIGS_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_CONFIGS_DIR
