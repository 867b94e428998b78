"""``runbot.py`` as a real subprocess running funding arbitrage between GRVT and Backpack, each a
fake venue server in the test process (GRVT's fake logging the API key in and recovering every
order's EIP-712 signer): credentials (API key, private key, sub-account id) from the encrypted
database on SQLite and PostgreSQL, the strategy finding the funding spread and the atomic
executor opening the hedged pair on both venues; SIGINT stops it cleanly and no secret reaches
the log."""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path

from testing.fakes.backpack import FakeBackpack
from testing.fakes.grvt import FakeGrvt
from tests.bot_runtime.test_check import fresh_key
from tests.bot_runtime.test_runbot_e2e import eventually, running_bot, wait_exit
from tests.bot_runtime.test_runbot_real_venues import store_accounts
from tests.exchange_clients.contract.backpack_harness import API_KEY as BP_KEY
from tests.exchange_clients.contract.backpack_harness import API_SECRET as BP_SECRET
from tests.exchange_clients.contract.grvt_harness import API_KEY, PRIVATE_KEY, SUB_ACCOUNT_ID

D = Decimal
BTC = "BTC_USDT_Perp"


def config(grvt: FakeGrvt, backpack: FakeBackpack) -> str:
    return f"""\
name: arb-grvt-backpack
strategy:
  type: funding_arbitrage
  params:
    venues: [grvt, backpack]
    symbols: [BTC]
    target_margin_usd: 150
    max_leverage: 3
    max_positions: 1
    min_net_apr_pct: 20
    expected_hold_hours: 72
    min_volume_24h_usd: 0
    check_interval_seconds: 1
exchanges:
  grvt:
    account: gv
    testnet: true
    api_url: {grvt.base_url}
    ws_url: {grvt.ws_url}
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
                "gv",
                "grvt",
                {"API_KEY": API_KEY, "PRIVATE_KEY": PRIVATE_KEY, "SUB_ACCOUNT_ID": SUB_ACCOUNT_ID},
            ),
        ),
    )


async def test_funding_arbitrage_opens_a_hedged_grvt_backpack_pair(
    migrated_db_url: str, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    add_accounts(var, env)
    async with FakeGrvt() as grvt, FakeBackpack() as backpack:
        gv_account = grvt.add_api_key(API_KEY, PRIVATE_KEY, [SUB_ACCOUNT_ID]).sub_accounts[
            SUB_ACCOUNT_ID
        ]
        bp_account = backpack.add_account(BP_KEY)
        # GRVT's longs pay 0.4 % per 8 h (0.05 %/h), Backpack's shorts pay 0.01 %/h:
        # short GRVT, long Backpack.
        grvt.instruments[BTC].funding_rate_pct = D("0.4")
        backpack.markets["BTC_USDC_PERP"].funding_rate = D("-0.0001")
        path = tmp_path / "arb.yml"
        path.write_text(config(grvt, backpack), encoding="utf-8")
        log = tmp_path / "bot.log"
        with running_bot(path, var, migrated_db_url, log, extra_env=env) as bot:

            def hedged() -> bool:
                short = gv_account.positions.get(BTC)
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
        for secret in (API_KEY, PRIVATE_KEY, PRIVATE_KEY.removeprefix("0x"), BP_SECRET):
            assert secret not in text
        assert grvt.recovered_signers
        assert set(grvt.recovered_signers) == {grvt.api_keys[API_KEY].signer}
