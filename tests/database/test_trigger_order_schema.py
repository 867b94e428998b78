"""Migration 0008: the journal and the paper venue can hold STOP_MARKET orders, and the
other CHECKs of the recreated tables (SQLite batch mode) still hold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from database.engine import create_engine, session_maker
from database.migrate import downgrade, upgrade
from database.models import Order
from tests.database.test_models import _bot_and_account, _order


async def test_a_stop_order_is_stored_with_its_trigger(db_session: AsyncSession) -> None:
    bot, account = await _bot_and_account(db_session)
    db_session.add(
        _order(
            bot,
            account,
            "stop-1",
            side="sell",
            order_type="stop_market",
            price=None,
            trigger_price=Decimal("61234.5"),
            reduce_only=True,
            post_only=False,
        )
    )
    await db_session.commit()
    stored = await db_session.scalar(select(Order).where(Order.client_order_id == "stop-1"))
    assert stored is not None
    assert (stored.order_type, stored.trigger_price) == ("stop_market", Decimal("61234.5"))


@pytest.mark.parametrize(("field", "value"), [("order_type", "stop_limit"), ("side", "hold")])
async def test_other_values_are_still_refused(
    db_session: AsyncSession, field: str, value: str
) -> None:
    bot, account = await _bot_and_account(db_session)
    db_session.add(_order(bot, account, "bad-1", **{field: value}))
    with pytest.raises(IntegrityError):
        await db_session.flush()


async def test_downgrade_keeps_a_stop_as_the_market_order_it_executes_as(
    migrated_db_url: str, db_session: AsyncSession
) -> None:
    bot, account = await _bot_and_account(db_session)
    db_session.add(
        _order(
            bot,
            account,
            "stop-2",
            order_type="stop_market",
            price=None,
            trigger_price=Decimal(1),
            reduce_only=True,
        )
    )
    await db_session.commit()
    await db_session.close()
    await downgrade("0007", migrated_db_url)
    await upgrade(migrated_db_url)
    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            stored = await session.scalar(select(Order).where(Order.client_order_id == "stop-2"))
    finally:
        await engine.dispose()
    assert stored is not None
    assert (stored.order_type, stored.trigger_price) == ("market", None)
