"""The scalper's kill switch through a real ``runbot.py`` process, on both databases.

The bot trades the live synthetic market (system clock) with a daily loss limit half of one
entry's taker fee and exits far away, so the first entry trips it while the position is open:
the bot must cancel its venue stop, close the position at market (reduce-only), engage the kill
switch in its saved risk state and stop by itself with exit code 0. Everything is read back the
way an operator would: the process's exit, the journal, the saved state, the log - and a paper
client on the bot's account (persisted in the same database) confirms the venue is flat.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from database.engine import create_engine, session_maker
from database.models import Bot, StrategyState
from database.models import Order as OrderRow
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings
from tests.bot_runtime.test_runbot_e2e import running_bot, wait_exit

NAME = "e2e-l2-kill"
CONFIG = f"""\
name: {NAME}
strategy:
  type: l2_imbalance
  params:
    exchange: paper
    tickers: [BTC]
    order_notional_usd: 2000
    buy_ratio: 1.5
    sell_ratio: 0.67
    take_profit_pct: 5            # no exit but the kill's: the position is open when it trips
    stop_loss_pct: 5
    time_stop_seconds: 3600
    daily_loss_limit_usd: 0.5     # one entry's taker fee is 2000 x 0.0005 = 1.00
    max_drawdown_usd: 100
exchanges:
  paper: {{}}
"""


async def test_the_daily_loss_kill_flattens_on_the_paper_venue_and_stops(
    migrated_db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "l2.yml"
    config.write_text(CONFIG)
    log = tmp_path / "bot.log"
    with running_bot(config, tmp_path / "var", migrated_db_url, log) as bot:
        assert await wait_exit(bot, seconds=120) == 0  # it stopped by itself

    text = log.read_text()
    assert "KILL SWITCH" in text
    assert "DailyLossLimitBreached" in text
    assert "Traceback" not in text

    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            bot_row = await session.scalar(select(Bot).where(Bot.name == NAME))
            assert bot_row is not None
            assert bot_row.status == "stopped"
            rows = list(
                await session.scalars(
                    select(OrderRow).where(OrderRow.bot_id == bot_row.id).order_by(OrderRow.id)
                )
            )
            saved = await session.get(StrategyState, bot_row.id)
    finally:
        await engine.dispose()

    # The journal shows every order: the entry, its venue stop, the kill's close - all final.
    purposes = [row.purpose for row in rows]
    assert purposes.count("l2_entry") == 1, purposes
    assert purposes.count("l2_kill") == 1, purposes
    assert all(row.client_order_id for row in rows)
    assert [r.status for r in rows if r.status in ("open", "pending", "partially_filled")] == []
    entry = next(r for r in rows if r.purpose == "l2_entry")
    kill = next(r for r in rows if r.purpose == "l2_kill")
    assert entry.status == "filled"
    assert (kill.status, kill.reduce_only, kill.filled_size) == ("filled", True, entry.filled_size)
    assert kill.side != entry.side
    [stop] = [r for r in rows if r.purpose == "l2_stop"]
    assert (stop.order_type, stop.status, stop.reduce_only) == ("stop_market", "cancelled", True)
    net = sum((r.filled_size if r.side == "buy" else -r.filled_size for r in rows), Decimal(0))
    assert net == 0

    # The kill switch is engaged in the saved risk state: a restart would refuse every entry.
    assert saved is not None
    kill_state = saved.state["risk"]["kill"]
    assert kill_state is not None
    assert "DailyLossLimitBreached" in kill_state["reason"]

    # The venue itself is flat.
    client = PaperExchangeClient(
        ClientSettings(
            venue="paper",
            account=f"paper:{NAME}",
            options={"database_url": migrated_db_url},
        )
    )
    await client.connect()
    try:
        assert [p for p in await client.positions() if p.size != 0] == []
    finally:
        await client.disconnect()
