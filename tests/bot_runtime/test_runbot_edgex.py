"""``runbot.py`` as a real subprocess running funding arbitrage between EdgeX and Backpack, each
a fake venue server in the test process (EdgeX's fake verifying every HMAC header and recovering
every order's EIP-712 signer): credentials from the encrypted database on SQLite and
PostgreSQL, the strategy finding the funding spread and the atomic executor opening the hedged
pair on both venues; SIGINT stops it cleanly and no secret reaches the log."""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path

from testing.fakes.backpack import FakeBackpack
from testing.fakes.edgex import FakeEdgex
from tests.bot_runtime.test_check import fresh_key
from tests.bot_runtime.test_runbot_e2e import eventually, running_bot, wait_exit
from tests.bot_runtime.test_runbot_real_venues import store_accounts
from tests.exchange_clients.contract.backpack_harness import API_KEY as BP_KEY
from tests.exchange_clients.contract.backpack_harness import API_SECRET as BP_SECRET
from tests.exchange_clients.contract.edgex_harness import (
    ACCOUNT_ID,
    API_KEY,
    API_SECRET,
    PASSPHRASE,
    TRADING_KEY,
)

D = Decimal
BTC = "10000001"


def config(edgex: FakeEdgex, backpack: FakeBackpack) -> str:
    return f"""\
name: arb-edgex-backpack
strategy:
  type: funding_arbitrage
  params:
    venues: [edgex, backpack]
    symbols: [BTC]
    target_margin_usd: 150
    max_leverage: 3
    max_positions: 1
    min_net_apr_pct: 20
    expected_hold_hours: 72
    min_volume_24h_usd: 0
    check_interval_seconds: 1
exchanges:
  edgex:
    account: ex
    api_url: {edgex.base_url}
    ws_url: {edgex.ws_url}
  backpack:
    account: bp
    api_url: {backpack.base_url}
    ws_url: {backpack.ws_url}
execution:
  max_slippage_pct: 0.5
"""


def add_accounts(var: Path, env: dict[str, str]) -> None:
    store_accounts(
        var,
        env,
        (
            ("bp", "backpack", {"API_KEY": BP_KEY, "API_SECRET": BP_SECRET}),
            (
                "ex",
                "edgex",
                {
                    "ACCOUNT_ID": ACCOUNT_ID,
                    "API_KEY": API_KEY,
                    "API_SECRET": API_SECRET,
                    "API_PASSPHRASE": PASSPHRASE,
                    "TRADING_PRIVATE_KEY": TRADING_KEY,
                },
            ),
        ),
    )


async def test_funding_arbitrage_opens_a_hedged_edgex_backpack_pair(
    migrated_db_url: str, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    add_accounts(var, env)
    async with FakeEdgex() as edgex, FakeBackpack() as backpack:
        ex_account = edgex.add_account(
            ACCOUNT_ID,
            api_key=API_KEY,
            api_secret=API_SECRET,
            passphrase=PASSPHRASE,
            trading_private_key=TRADING_KEY,
        )
        bp_account = backpack.add_account(BP_KEY)
        # EdgeX's longs pay 0.2 % per 4 h (0.05 %/h), Backpack's shorts pay 0.01 %/h:
        # short EdgeX, long Backpack.
        edgex.contracts[BTC].funding_rate = D("0.002")
        backpack.markets["BTC_USDC_PERP"].funding_rate = D("-0.0001")
        path = tmp_path / "arb.yml"
        path.write_text(config(edgex, backpack), encoding="utf-8")
        log = tmp_path / "bot.log"
        with running_bot(path, var, migrated_db_url, log, extra_env=env) as bot:

            def hedged() -> bool:
                short = ex_account.positions.get(BTC)
                long = bp_account.positions.get("BTC_USDC_PERP")
                return bool(
                    short is not None
                    and long is not None
                    and short.amount < 0
                    and long.amount > 0
                    and long.amount == -short.amount
                )

            try:
                await eventually(hedged, "a hedged pair on both venues", seconds=90)
            except AssertionError:
                raise AssertionError(log.read_text()[-4000:]) from None
            bot.send_signal(signal.SIGINT)
            assert await wait_exit(bot) == 0
        text = log.read_text()
        for secret in (API_SECRET, PASSPHRASE, TRADING_KEY, TRADING_KEY.removeprefix("0x")):
            assert secret not in text
        assert edgex.rejections == []
