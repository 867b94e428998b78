"""/pnl: numbers (live from the control API, or the last sample) and a PNG equity chart drawn
from ``pnl_snapshots``; the fleet watcher's sampling that fills that table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import Bot, PnlSnapshot
from database.types import utcnow
from telegram_bot_service.notifications import Notifier
from telegram_bot_service.pnl_history import record_snapshot
from telegram_bot_service.watcher import FleetWatcher
from tests.telegram_bot_service.conftest import VIEWER, StartService
from tests.telegram_bot_service.fleet_double import InMemoryFleet

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


async def _bot_with_history(sessions: async_sessionmaker[AsyncSession], name: str) -> None:
    async with sessions() as session, session.begin():
        session.add(Bot(name=name, config={}))
        await session.flush()
        for hour in range(48):
            equity = Decimal("1000.00") + Decimal(hour) * Decimal("1.25")
            await record_snapshot(
                session,
                name,
                equity=equity,
                realized=Decimal(hour) * Decimal("0.50"),
                unrealized=Decimal("0.75"),
                funding=Decimal("-0.10"),
                ts=START + timedelta(hours=hour),
            )


async def test_pnl_sends_numbers_and_a_png_chart(
    start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _bot_with_history(sessions, "grid-old")  # stopped: not in the fleet any more
    async with start_service(fleet=InMemoryFleet()) as harness:
        tg = harness.telegram
        mark = tg.mark()
        await tg.send_text(VIEWER, "/pnl grid-old")
        photo = await tg.reply_to(VIEWER, after=mark, methods=("sendPhoto",))
        png = photo.files["photo"]
        assert png.startswith(PNG_SIGNATURE)
        assert photo.result["photo"][0]["width"] > 0
        assert "48 samples" in photo.params["caption"]
        [numbers] = [c for c in tg.sent(VIEWER, after=mark) if c.method == "sendMessage"]
        # The last sample: realized 47 * 0.50, unrealized 0.75, funding -0.10 -> net 24.15
        row = next(line for line in numbers.text.splitlines() if line.startswith("grid-old"))
        assert row.split()[:5] == ["grid-old", "+23.50", "+0.75", "-0.10", "+24.15"]
        assert "as of 2026-11-21 23:00 UTC" in row

        # Without a bot name: every bot, one chart.
        mark = tg.mark()
        await tg.send_text(VIEWER, "/pnl")
        photo = await tg.reply_to(VIEWER, after=mark, methods=("sendPhoto",))
        assert photo.files["photo"].startswith(PNG_SIGNATURE)


async def test_pnl_of_an_unknown_bot(start_service: StartService) -> None:
    async with start_service(fleet=InMemoryFleet()) as harness:
        answer = await harness.say(VIEWER, "/pnl ghost")
        assert "unknown bot 'ghost'" in answer.text
        answer = await harness.say(VIEWER, "/pnl")
        assert answer.text == "No bots yet: nothing to report."


async def test_the_watcher_records_samples_for_running_bots(
    start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    fleet = InMemoryFleet()
    fleet.add_bot("grid-live")
    async with sessions() as session, session.begin():
        session.add(Bot(name="grid-live", config={}))
    async with start_service(fleet=fleet) as harness:
        watcher = FleetWatcher(
            fleet,
            Notifier(harness.app.bot, sessions),
            sessions,
            harness.services.expected,
            snapshot_interval_seconds=3600,
        )
        await watcher.poll_once()
        await watcher.poll_once()  # within the interval: no second sample
        async with sessions() as session:
            [sample] = list(await session.scalars(select(PnlSnapshot)))
        assert sample.equity == Decimal("1001.990")
        assert sample.realized == Decimal("12.5")
        assert sample.unrealized == Decimal("1.990")
        assert sample.funding == Decimal("-0.0375")

        mark = harness.telegram.mark()
        await harness.telegram.send_text(VIEWER, "/pnl grid-live")
        photo = await harness.telegram.reply_to(VIEWER, after=mark, methods=("sendPhoto",))
        assert photo.files["photo"].startswith(PNG_SIGNATURE)


async def test_the_watcher_skips_a_bot_that_sampled_itself_within_the_interval(
    start_service: StartService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Every bot samples itself (bot_runtime.equity_samples): the watcher adds a row only when
    the newest one is older than its interval, so the series has one row per interval."""
    fleet = InMemoryFleet()
    fleet.add_bot("grid-live")
    async with sessions() as session, session.begin():
        bot = Bot(name="grid-live", config={})
        session.add(bot)
        await session.flush()
        zero = Decimal(0)
        session.add(
            PnlSnapshot(
                bot_id=bot.id,
                ts=utcnow() - timedelta(seconds=60),
                equity=Decimal(1000),
                realized=zero,
                unrealized=zero,
                funding=zero,
            )
        )
    async with start_service(fleet=fleet) as harness:

        def watcher(interval: float) -> FleetWatcher:
            return FleetWatcher(
                fleet,
                Notifier(harness.app.bot, sessions),
                sessions,
                harness.services.expected,
                snapshot_interval_seconds=interval,
            )

        await watcher(300).poll_once()  # the bot's own sample is 60 s old: nothing added
        async with sessions() as session:
            assert len(list(await session.scalars(select(PnlSnapshot)))) == 1
        await watcher(30).poll_once()  # a 30 s interval: the bot's sample is too old for it
        async with sessions() as session:
            samples = list(await session.scalars(select(PnlSnapshot).order_by(PnlSnapshot.ts)))
        assert [s.equity for s in samples] == [Decimal(1000), Decimal("1001.990")]
