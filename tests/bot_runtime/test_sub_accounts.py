"""A config selects an account's sub-account per venue: the bot trades with that
sub-account's own stored credentials, ``--check`` says so, and a sub-account that is not
stored (or one given to a simulated venue) is refused with the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import strategies  # noqa: F401  (fills the params registry load_config reads, as runbot does)
from bot_runtime.setup import build_clients
from core.errors import ConfigError, TradingError
from core.redaction import Secret
from database.repositories.accounts import add_credentials
from tests.bot_runtime.test_check import fresh_key
from tests.helpers import run_cli
from trading_config import load_config

MAIN_KEY, MAIN_SECRET = "main-api-key-0123456789", "main-api-secret-abcdef-987654"
SUB_KEY, SUB_SECRET = "sub-api-key-9876543210", "sub-api-secret-fedcba-123456"


def config_text(sub_account: str | None, venue: str = "binance") -> str:
    sub = f"\n    sub_account: {sub_account}" if sub_account is not None else ""
    return f"""\
name: grid-sub
strategy:
  type: grid
  params:
    exchange: {venue}
    ticker: BTC
    direction: buy
    order_notional_usd: 100
    take_profit: 1
    grid_step: 0.5
    max_orders: 3
    max_margin_usd: 500
    target_leverage: 2
exchanges:
  {venue}:
    account: main{sub}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yml"
    path.write_text(text, encoding="utf-8")
    return path


async def store(sessions: async_sessionmaker[AsyncSession], sub_account: str, key: str) -> None:
    secret = MAIN_SECRET if key == MAIN_KEY else SUB_SECRET
    async with sessions.begin() as session:
        await add_credentials(
            session,
            account_name="main",
            venue="binance",
            public={},
            secrets={"api_key": Secret(key), "api_secret": Secret(secret)},
            sub_account=sub_account,
        )


@pytest.mark.parametrize(("sub_account", "expected"), [(None, MAIN_KEY), ("hedge", SUB_KEY)])
async def test_the_client_gets_the_selected_sub_accounts_credentials(
    db_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    sub_account: str | None,
    expected: str,
) -> None:
    await store(db_sessions, "", MAIN_KEY)
    await store(db_sessions, "hedge", SUB_KEY)
    config = load_config(write(tmp_path, config_text(sub_account)))

    clients = await build_clients(db_sessions, config)

    assert clients["binance"].settings.secrets["api_key"].reveal() == expected


async def test_a_sub_account_that_is_not_stored_names_the_fix(
    db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await store(db_sessions, "", MAIN_KEY)
    config = load_config(write(tmp_path, config_text("hedge")))

    with pytest.raises(TradingError) as raised:
        await build_clients(db_sessions, config)

    message = str(raised.value)
    assert "sub-account hedge" in message
    assert "--sub-account hedge" in message
    assert MAIN_KEY not in message


def test_a_sub_account_on_a_simulated_venue_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, config_text("hedge", venue="paper"))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    (problem,) = raised.value.problems
    assert "exchanges.paper.sub_account" in problem
    assert "sub_account applies to real venues only" in problem


def test_a_malformed_sub_account_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, config_text("'bad name'")))
    (problem,) = raised.value.problems
    assert "exchanges.binance.sub_account" in problem


def test_check_names_the_sub_account_or_the_line_to_fix(
    tmp_path: Path, migrated_db_url: str
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    add = ["-m", "database", "accounts", "add", "--name", "main", "--venue", "binance"]
    keys = {"PERPFLEET_BINANCE_API_KEY": SUB_KEY, "PERPFLEET_BINANCE_API_SECRET": SUB_SECRET}
    result = run_cli([*add, "--sub-account", "hedge", "--from-env"], var, {**env, **keys})
    assert result.returncode == 0, result.stderr

    good = write(tmp_path, config_text("hedge"))
    result = run_cli(["runbot.py", "--config", str(good), "--check"], var, env)
    assert result.returncode == 0, result.stderr
    assert "binance (account main sub-account hedge, credentials found)" in result.stdout

    missing = write(tmp_path, config_text("other"))
    result = run_cli(["runbot.py", "--config", str(missing), "--check"], var, env)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{missing}:17: exchanges.binance.sub_account: ")
    assert "--sub-account other" in line
    assert SUB_KEY not in result.stdout + result.stderr
