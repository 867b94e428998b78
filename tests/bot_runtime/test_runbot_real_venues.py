"""``runbot.py`` as a real subprocess running funding arbitrage between Backpack and Lighter,
each a fake venue server in the test process: credentials from the encrypted database, the
config's api_url/ws_url pointing at the fakes, the strategy finding the funding spread and the
atomic executor opening the hedged pair on both venues; SIGINT stops it cleanly."""

from __future__ import annotations

import signal
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from testing.fakes.backpack import FakeBackpack
from testing.fakes.lighter import FakeLighter
from tests.bot_runtime.test_check import fresh_key
from tests.bot_runtime.test_runbot_e2e import eventually, running_bot, wait_exit
from tests.exchange_clients.contract.backpack_harness import API_KEY, API_SECRET
from tests.exchange_clients.contract.lighter_harness import (
    ACCOUNT_INDEX,
    API_KEY_INDEX,
    HARNESS_KEY,
)
from tests.helpers import run_cli

D = Decimal


def config(backpack: FakeBackpack, lighter: FakeLighter) -> str:
    return f"""\
name: arb-backpack-lighter
strategy:
  type: funding_arbitrage
  params:
    venues: [backpack, lighter]
    symbols: [BTC]
    target_margin_usd: 150
    max_leverage: 3
    max_positions: 1
    min_net_apr_pct: 20
    expected_hold_hours: 72
    min_volume_24h_usd: 0
    check_interval_seconds: 1
exchanges:
  backpack:
    account: bp
    api_url: {backpack.base_url}
    ws_url: {backpack.ws_url}
  lighter:
    account: lt
    api_url: {lighter.base_url}
    ws_url: {lighter.ws_url}
execution:
  max_slippage_pct: 0.5
"""


def store_accounts(
    var: Path, env: dict[str, str], accounts: Iterable[tuple[str, str, dict[str, str]]]
) -> None:
    """Each (account name, venue, credential fields) stored through the real CLI, the fields
    passed as ``PERPFLEET_<VENUE>_<FIELD>`` variables (``--from-env``)."""
    for name, venue, fields in accounts:
        values = {f"PERPFLEET_{venue.upper()}_{key}": value for key, value in fields.items()}
        result = run_cli(
            ["-m", "database", "accounts", "add", "--name", name, "--venue", venue, "--from-env"],
            var,
            {**env, **values},
        )
        assert result.returncode == 0, result.stderr


def add_accounts(var: Path, env: dict[str, str]) -> None:
    store_accounts(
        var,
        env,
        (
            ("bp", "backpack", {"API_KEY": API_KEY, "API_SECRET": API_SECRET}),
            (
                "lt",
                "lighter",
                {
                    "API_KEY_PRIVATE_KEY": HARNESS_KEY,
                    "ACCOUNT_INDEX": str(ACCOUNT_INDEX),
                    "API_KEY_INDEX": str(API_KEY_INDEX),
                },
            ),
        ),
    )


async def test_funding_arbitrage_opens_a_hedged_backpack_lighter_pair(
    migrated_db_url: str, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    add_accounts(var, env)
    async with FakeBackpack() as backpack, FakeLighter() as lighter:
        bp_account = backpack.add_account(API_KEY)
        lt_account = lighter.add_account(ACCOUNT_INDEX, API_KEY_INDEX)
        # Backpack's longs pay 0.05 %/h, Lighter's shorts pay 0.01 %/h: short Backpack,
        # long Lighter.
        backpack.markets["BTC_USDC_PERP"].funding_rate = D("0.0005")
        btc = next(m for m in lighter.markets.values() if m.symbol == "BTC")
        btc.funding_percent = D("-0.01")
        path = tmp_path / "arb.yml"
        path.write_text(config(backpack, lighter), encoding="utf-8")
        log = tmp_path / "bot.log"
        with running_bot(path, var, migrated_db_url, log, extra_env=env) as bot:

            def hedged() -> bool:
                short = bp_account.positions.get("BTC_USDC_PERP")
                long = lt_account.positions.get(btc.market_id)
                return bool(
                    short is not None
                    and long is not None
                    and short.amount < 0
                    and long.size > 0
                    and long.size == -short.amount
                )

            try:
                await eventually(hedged, "a hedged pair on both venues", seconds=90)
            except AssertionError:
                raise AssertionError(log.read_text()[-4000:]) from None
            bot.send_signal(signal.SIGINT)
            assert await wait_exit(bot) == 0
        text = log.read_text()
        for secret in (API_SECRET, HARNESS_KEY, HARNESS_KEY.removeprefix("0x")):
            assert secret not in text
