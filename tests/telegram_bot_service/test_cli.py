"""``python -m telegram_bot_service users ...`` as an operator runs it; ``run`` without a token."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from database.engine import create_engine, session_maker
from database.models import AuditLogEntry
from tests.helpers import run_cli


async def test_users_add_list_remove_are_audited(migrated_db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": migrated_db_url}
    var = tmp_path / "var"
    added = run_cli(
        [
            "-m",
            "telegram_bot_service",
            "users",
            "add",
            "12345",
            "--role",
            "trader",
            "--name",
            "Tom",
            "--subscribe",
            "fills",
            "kill_switch",
        ],
        var,
        env,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "added Telegram user 12345 as trader\n"
    updated = run_cli(
        ["-m", "telegram_bot_service", "users", "add", "12345", "--role", "admin"], var, env
    )
    assert updated.stdout == "updated Telegram user 12345 as admin\n"
    run_cli(["-m", "telegram_bot_service", "users", "add", "777", "--role", "viewer"], var, env)

    listed = run_cli(["-m", "telegram_bot_service", "users", "list"], var, env)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines()]
    assert lines[0] == ["TELEGRAM", "ID", "ROLE", "NAME", "ALERTS"]
    assert lines[1] == ["777", "viewer", "-", "-"]
    assert lines[2] == ["12345", "admin", "Tom", "fills,", "kill_switch"]

    removed = run_cli(["-m", "telegram_bot_service", "users", "remove", "777"], var, env)
    assert removed.stdout == "removed Telegram user 777\n"
    again = run_cli(["-m", "telegram_bot_service", "users", "remove", "777"], var, env)
    assert again.returncode == 2
    # The last line: the database may log a file-mode warning first (see database.engine).
    assert again.stderr.splitlines()[-1] == "error: Telegram user 777 is not in the allowlist"
    wrong = run_cli(["-m", "telegram_bot_service", "users", "add", "5", "--role", "god"], var, env)
    assert wrong.returncode == 2
    assert "invalid choice: 'god'" in wrong.stderr

    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            rows = list(await session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id)))
    finally:
        await engine.dispose()
    assert [(r.action, r.target) for r in rows] == [
        ("telegram.user.add", "telegram:12345"),
        ("telegram.user.update", "telegram:12345"),
        ("telegram.user.add", "telegram:777"),
        ("telegram.user.remove", "telegram:777"),
    ]
    assert rows[0].details["subscriptions"] == ["fills", "kill_switch"]


def test_run_needs_a_token(tmp_path: Path) -> None:
    result = run_cli(["-m", "telegram_bot_service", "run"], tmp_path / "var")
    assert result.returncode == 2
    assert result.stderr == (
        "error: TELEGRAM_BOT_TOKEN is not set: put the bot token from @BotFather in the "
        "environment\n"
    )
