"""``python -m telegram_bot_service run`` without a network: one line, exit 1, no traceback.

Why (issue 14 item 11): the service died with PTB's ``NetworkError`` traceback when the Bot
API could not be reached. The real CLI as a subprocess, pointed at a port nothing listens on.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli

UNREACHABLE = "http://127.0.0.1:9"


def test_run_without_network_is_one_line(tmp_path: Path, migrated_db_url: str) -> None:
    result = run_cli(
        ["-m", "telegram_bot_service", "run"],
        tmp_path / "var",
        {
            "DATABASE_URL": migrated_db_url,
            "TELEGRAM_BOT_TOKEN": "123456:offline-test-token-abcdefghijklmnopqrstu",
            "TELEGRAM_API_BASE_URL": UNREACHABLE,
        },
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert line.startswith(f"error: cannot reach the Telegram Bot API at {UNREACHABLE} (")
    assert line.endswith("): check the network, or TELEGRAM_API_BASE_URL")
    assert "offline-test-token" not in result.stderr + result.stdout
