"""``python -m dashboard``: users added, listed, re-passworded and removed through the real
parser and database; mistakes are one line and exit 2; serving refuses an unsafe bind."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dashboard.cli import build_parser, main
from dashboard.passwords import verify_password
from dashboard.server import ServeSettings, is_loopback
from database.engine import create_engine, session_maker
from database.models import AuditLogEntry, DashboardUser
from database.repositories import dashboard_users as repo
from tests.dashboard.conftest import Dashboard
from tests.helpers import PROJECT_ROOT


@pytest.fixture
def database(migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    return migrated_db_url


def run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


async def _users(url: str) -> dict[str, DashboardUser]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            return {u.name: u for u in await session.scalars(select(DashboardUser))}
    finally:
        await engine.dispose()


async def _audit(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            rows = await session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id))
            return [f"{r.action} {r.target}" for r in rows]
    finally:
        await engine.dispose()


def test_users_add_list_password_remove(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        ["users", "add", "ada", "--role", "admin", "--password-stdin"],
        "a long passphrase\n",
        monkeypatch,
    )
    assert code == 0
    assert "added dashboard user ada as admin" in capsys.readouterr().out
    users = asyncio.run(_users(database))
    assert users["ada"].role == "admin"
    assert "a long passphrase" not in users["ada"].password_hash
    assert verify_password("a long passphrase", users["ada"].password_hash)

    assert run(["users", "list"], "", monkeypatch) == 0
    assert "ada   admin" in capsys.readouterr().out.replace("  admin", "   admin")

    assert (
        run(["users", "password", "ada", "--password-stdin"], "another passphrase\n", monkeypatch)
        == 0
    )
    users = asyncio.run(_users(database))
    assert verify_password("another passphrase", users["ada"].password_hash)

    assert run(["users", "remove", "ada"], "", monkeypatch) == 0
    assert asyncio.run(_users(database)) == {}
    assert asyncio.run(_audit(database)) == [
        "dashboard.user.add ada",
        "dashboard.user.password ada",
        "dashboard.user.remove ada",
    ]


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        (
            ["users", "add", "ada", "--role", "admin", "--password-stdin"],
            "short\n",
            "at least 10 characters",
        ),
        (
            ["users", "add", " ada", "--role", "admin", "--password-stdin"],
            "a long passphrase\n",
            "user name",
        ),
        (["users", "add", "ada", "--role", "admin"], "", "--password-stdin"),
        (["users", "remove", "nobody"], "", "no dashboard user 'nobody'"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    expected: str,
) -> None:
    assert run(argv, stdin, monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert expected in err
    assert "Traceback" not in err


def test_a_name_is_added_once(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["users", "add", "tom", "--role", "trader", "--password-stdin"]
    assert run(argv, "a long passphrase\n", monkeypatch) == 0
    assert run(argv, "a long passphrase\n", monkeypatch) == 2
    assert "already exists" in capsys.readouterr().err


def test_an_uninitialised_database_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert run(["users", "list"], "", monkeypatch) == 2
    assert "python -m database init" in capsys.readouterr().err


def test_serve_refuses_a_public_bind_without_tls_in_front(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="--secure-cookies") as caught:
        ServeSettings(host="0.0.0.0", configs_dir=tmp_path).check()  # noqa: S104
    assert type(caught.value).__name__ == "ConfigError"
    ServeSettings(host="0.0.0.0", secure_cookies=True, configs_dir=tmp_path).check()  # noqa: S104
    ServeSettings(host="127.0.0.1", configs_dir=tmp_path).check()
    with pytest.raises(Exception, match="--port 0"):
        ServeSettings(port=0, configs_dir=tmp_path).check()
    with pytest.raises(Exception, match="--session-hours"):
        ServeSettings(session_hours=0, configs_dir=tmp_path).check()
    with pytest.raises(Exception, match="--sample-seconds 5"):
        ServeSettings(sample_seconds=5, configs_dir=tmp_path).check()
    ServeSettings(sample_seconds=0, configs_dir=tmp_path).check()
    with pytest.raises(Exception, match="--configs-dir"):
        ServeSettings(configs_dir=tmp_path / "missing").check()


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")  # noqa: S104
    assert not is_loopback("192.168.1.4")


def test_parser_defaults_and_flags() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.secure_cookies) == (None, 8720, None)  # env, then default
    args = build_parser().parse_args(
        [
            "--port",
            "9000",
            "--secure-cookies",
            "--funding-url",
            "http://127.0.0.1:1",
            "--session-hours",
            "2",
            "--configs-dir",
            "x",
        ]
    )
    assert (args.port, args.secure_cookies, args.funding_url, args.session_hours) == (
        9000,
        True,
        "http://127.0.0.1:1",
        2.0,
    )


def test_serving_a_public_address_exits_2_before_binding(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "--host", "0.0.0.0"],  # noqa: S104
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --host 0.0.0.0: not a loopback address")
    assert "Traceback" not in result.stderr


def test_serve_passes_every_flag_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[ServeSettings] = []

    async def fake_serve(settings: ServeSettings) -> None:
        seen.append(settings)

    monkeypatch.setattr("dashboard.cli.serve", fake_serve)
    monkeypatch.setenv("PERPFLEET_FUNDING_TOKEN", "funding-token-value")
    argv = [
        "--host",
        "::1",
        "--port",
        "9001",
        "--funding-url",
        "http://127.0.0.1:1",
        "--secure-cookies",
        "--configs-dir",
        str(tmp_path),
        "--session-hours",
        "3",
        "--sample-seconds",
        "60",
    ]
    assert main(argv) == 0
    assert seen == [
        ServeSettings(
            host="::1",
            port=9001,
            funding_url="http://127.0.0.1:1",
            funding_token="funding-token-value",
            secure_cookies=True,
            configs_dir=tmp_path,
            session_hours=3.0,
            sample_seconds=60.0,
        )
    ]
    monkeypatch.setenv("PERPFLEET_CONFIGS_DIR", str(tmp_path / "elsewhere"))
    assert main([]) == 0
    assert seen[-1].configs_dir == tmp_path / "elsewhere"
    assert seen[-1].funding_token == "funding-token-value"


def test_settings_from_the_environment_and_flags_win(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[ServeSettings] = []

    async def fake_serve(settings: ServeSettings) -> None:
        seen.append(settings)

    monkeypatch.setattr("dashboard.cli.serve", fake_serve)
    monkeypatch.setenv("PERPFLEET_CONFIGS_DIR", str(tmp_path))
    monkeypatch.setenv("PERPFLEET_DASHBOARD_FUNDING_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("PERPFLEET_DASHBOARD_SECURE_COOKIES", "1")
    monkeypatch.setenv("PERPFLEET_DASHBOARD_SESSION_HOURS", "4")
    monkeypatch.setenv("PERPFLEET_DASHBOARD_HOST", "::1")
    monkeypatch.setenv("PERPFLEET_DASHBOARD_SAMPLE_SECONDS", "0")
    assert main([]) == 0
    assert seen[-1].sample_seconds == 0
    assert (seen[-1].funding_url, seen[-1].secure_cookies, seen[-1].session_hours) == (
        "http://127.0.0.1:2",
        True,
        4.0,
    )
    assert seen[-1].host == "::1"
    assert main(["--session-hours", "1", "--host", "127.0.0.1"]) == 0
    assert (seen[-1].session_hours, seen[-1].host) == (1.0, "127.0.0.1")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PERPFLEET_DASHBOARD_SECURE_COOKIES", "yes", "expected 1/true or 0/false"),
        ("PERPFLEET_DASHBOARD_SESSION_HOURS", "long", "expected a number of hours"),
        ("PERPFLEET_DASHBOARD_PORTT", "1", "not a dashboard setting"),
        ("PERPFLEET_DASHBOARD_SAMPLE_SECONDS", "often", "expected a number of seconds"),
    ],
)
def test_a_wrong_environment_setting_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: ${name}: ")
    assert expected in err


async def test_the_login_page_says_how_to_add_the_first_admin(dashboard: Dashboard) -> None:
    client = await dashboard.client()
    assert "users add NAME --role admin" not in (await client.get("/login")).text
    async with dashboard.sessions() as session, session.begin():
        for user in await repo.list_users(session):
            await repo.remove_user(session, user.name)
    assert "python -m dashboard users add NAME --role admin" in (await client.get("/login")).text
