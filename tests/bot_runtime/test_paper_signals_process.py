"""``configs/paper_signals.yml`` in a real ``runbot.py`` process: seven signal strategies on a
paper account fed by live-shaped data - the fake Hyperliquid (candle history, trades, funding,
open interest, the books the paper venue fills against) and the fake Polymarket - recording
every signal and the trades they opened; SIGINT stops it cleanly.

Only where the public data is read from is changed: the shipped config's strategy gets the
fakes' hosts (``market_data_url``, ``polymarket_*_url``) and faster polls, and a two-line
launcher points the paper venue's live feed (which a config cannot redirect: api_url/ws_url
are for real venues) at the fake before running ``runbot.py`` as ``__main__``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from database.engine import create_engine
from database.models import Order, SignalRecord, SignalTrade
from testing.fakes.hyperliquid import FakeHyperliquid, FakeMarket, default_books, default_markets
from testing.fakes.polymarket import FakePolyMarket, FakePolymarket
from tests.bot_runtime.test_runbot_e2e import eventually, wait_exit
from tests.funding_rate_service.served import free_port
from tests.helpers import PROJECT_ROOT, cli_env

D = Decimal
SEVEN = {
    "contrarian_pure",
    "contrarian_strength",
    "funding_rate",
    "funding_oi",
    "rsi_mean_reversion",
    "funding_carry",
    "momentum_breakout",
}
LAUNCHER = """\
import os, runpy, sys
from bot_runtime import setup
from exchange_clients.market_data.live import LiveFeed, LiveSourceSettings, public_source

def live_feed(market_data):
    settings = LiveSourceSettings(
        symbols=market_data.symbols,
        base_url=os.environ["FAKE_HL_URL"],
        ws_url=os.environ["FAKE_HL_WS"],
    )
    return LiveFeed(public_source(market_data.source, settings))

setup.live_feed = live_feed
sys.argv = ["runbot.py", *sys.argv[1:]]
runpy.run_path("runbot.py", run_name="__main__")
"""


def fake_hyperliquid() -> FakeHyperliquid:
    sol = FakeMarket("SOL", 2, 20, D(150), D("0.0000125"), D("0.00001"))
    books = default_books()
    books["SOL"] = (
        [(D(150) - D("0.05") * (i + 1), D(20) * (i + 1)) for i in range(10)],
        [(D(150) + D("0.05") * (i + 1), D(20) * (i + 1)) for i in range(10)],
    )
    return FakeHyperliquid(markets=[*default_markets(), sol], books=books)


def candle_history(fake: FakeHyperliquid, now: datetime) -> None:
    """A quiet day of BTC 1m candles around 60,000, then an hour breaking out on volume."""
    last = now.replace(second=0, microsecond=0)
    for index in range(24 * 60, 0, -1):
        open_time = last - timedelta(minutes=index)
        if index > 60:
            price, volume = D(60_000) + index % 10, D(1)
        else:
            price, volume = D(60_100) + (60 - index) * 10, D(10)
        fake.add_candle(
            "BTC", "1m", int(open_time.timestamp() * 1000), (price, price, price, price, volume)
        )


@contextmanager
def launched(
    launcher: Path, config: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``runbot.py`` through the launcher, its output in ``log``; killed if still running."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, str(launcher), "--config", str(config), "--log-json"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def config(path: Path, fake: FakeHyperliquid, crowd: FakePolymarket) -> Path:
    shipped: dict[str, Any] = yaml.safe_load(
        (PROJECT_ROOT / "configs/paper_signals.yml").read_text()
    )
    params = shipped["strategy"]["params"]
    params.update(
        {
            "market_data_url": fake.base_url,
            "market_data_ws_url": fake.ws_url,
            "polymarket_gamma_url": crowd.base_url,
            "polymarket_clob_url": crowd.base_url,
            "evaluation_interval_seconds": 1,
            "funding_poll_seconds": 1,
            "polymarket_poll_seconds": 5,
            "mark_to_market_seconds": 1,
            # auto: nothing listens there, so funding and OI come from the fake venue
            "funding_service_url": f"http://127.0.0.1:{free_port()}",
        }
    )
    params["signals"]["funding_oi"]["min_oi_history"] = 2
    shipped["logging"] = {"level": "INFO"}
    path.write_text(yaml.safe_dump(shipped))
    return path


async def test_the_shipped_signal_config_records_signals_and_trades(
    migrated_db_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    async with fake_hyperliquid() as fake, FakePolymarket() as crowd:
        candle_history(fake, now)
        fake.market("ETH").funding = D("0.0020")  # 0.20 %/h: funding strategies fade ETH longs
        crowd.add(FakePolyMarket("Solana Up or Down - 3PM ET", D("0.93")))  # 93 % up: fade
        launcher = tmp_path / "launch.py"
        launcher.write_text(LAUNCHER)
        path = config(tmp_path / "signals.yml", fake, crowd)
        env = cli_env(
            tmp_path / "var",
            {
                "DATABASE_URL": migrated_db_url,
                "FAKE_HL_URL": fake.base_url,
                "FAKE_HL_WS": fake.ws_url,
            },
        )
        log = tmp_path / "bot.log"
        engine = create_engine(migrated_db_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        with launched(launcher, path, env, log) as bot:

            async def evaluated_all_and_traded() -> bool:
                async with sessions() as session:
                    names = set(await session.scalars(select(SignalRecord.strategy).distinct()))
                    opened = await session.scalar(select(func.count()).select_from(SignalTrade))
                return names == SEVEN and (opened or 0) >= 2

            await eventually(evaluated_all_and_traded, "signals of all seven and two trades", 90)
            bot.send_signal(signal.SIGINT)
            assert await wait_exit(bot) == 0, log.read_text()[-3000:]
        async with sessions() as session:
            rows = list(await session.scalars(select(SignalRecord)))
            trades = list(await session.scalars(select(SignalTrade).order_by(SignalTrade.id)))
            entries = list(
                await session.scalars(select(Order).where(Order.purpose == "signal_entry"))
            )
        await engine.dispose()
    acted = {(r.strategy, r.asset, r.direction) for r in rows if r.acted_on}
    said = sorted(
        {(r.strategy, r.asset, r.direction, r.acted_on, r.reason) for r in rows if r.direction}
    )
    assert ("contrarian_pure", "SOL", "SHORT") in acted, said
    assert ("funding_rate", "ETH", "SHORT") in acted or ("funding_carry", "ETH", "SHORT") in acted
    assert {(t.asset, t.direction) for t in trades} >= {("SOL", "SHORT"), ("ETH", "SHORT")}
    assert all(t.signal_id is not None for t in trades)
    assert len(entries) >= len(trades)  # every entry order journaled with its client id
    assert all(e.client_order_id for e in entries)
    passes = [r for r in rows if r.direction is None]
    assert passes  # passes are recorded too
    assert all(r.reason == "no signal" for r in passes)
