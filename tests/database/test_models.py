"""Constraints the schema enforces on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from database.models import (
    Account,
    AccountCredential,
    Bot,
    Fill,
    Order,
    Position,
    PositionLeg,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _bot_and_account(session: AsyncSession) -> tuple[Bot, Account]:
    bot = Bot(name="arb-1", config={"strategy": "funding_arbitrage"})
    account = Account(name="main")
    session.add_all([bot, account])
    await session.flush()
    return bot, account


def _order(bot: Bot, account: Account, client_order_id: str, **overrides: object) -> Order:
    fields: dict[str, object] = {
        "client_order_id": client_order_id,
        "bot_id": bot.id,
        "venue": "binance",
        "account_id": account.id,
        "symbol": "BTC",
        "side": "buy",
        "order_type": "limit",
        "price": Decimal("65000.5"),
        "size": Decimal("0.001"),
        "post_only": True,
        "operation_id": "op-1",
        "raw": {"price": Decimal("65000.5")},
    }
    fields.update(overrides)
    return Order(**fields)


async def test_client_order_id_is_unique(db_session: AsyncSession) -> None:
    bot, account = await _bot_and_account(db_session)
    db_session.add(_order(bot, account, "c-1"))
    await db_session.flush()
    db_session.add(_order(bot, account, "c-1", venue="hyperliquid"))
    with pytest.raises(IntegrityError):
        await db_session.flush()


async def test_order_defaults_and_journal_fields(db_session: AsyncSession) -> None:
    bot, account = await _bot_and_account(db_session)
    db_session.add(_order(bot, account, "c-2"))
    await db_session.commit()
    order = await db_session.scalar(select(Order).where(Order.client_order_id == "c-2"))
    assert order is not None
    assert (order.status, order.filled_size, order.reduce_only) == ("pending", Decimal(0), False)
    assert order.raw == {"price": "65000.5"}


async def test_order_side_is_checked(db_session: AsyncSession) -> None:
    bot, account = await _bot_and_account(db_session)
    db_session.add(_order(bot, account, "c-3", side="hold"))
    with pytest.raises(IntegrityError):
        await db_session.flush()


async def test_fill_ids_are_unique_per_venue(db_session: AsyncSession) -> None:
    bot, account = await _bot_and_account(db_session)
    order = _order(bot, account, "c-4")
    db_session.add(order)
    await db_session.flush()

    def fill(venue: str) -> Fill:
        return Fill(
            venue=venue,
            venue_fill_id="t-1",
            order_id=order.id,
            price=Decimal("65000.5"),
            size=Decimal("0.001"),
            fee=Decimal("0.0130001"),
            fee_asset="USDT",
            liquidity="maker",
            ts=NOW,
        )

    db_session.add_all([fill("binance"), fill("hyperliquid")])  # same id, other venue: fine
    await db_session.flush()
    db_session.add(fill("binance"))
    with pytest.raises(IntegrityError):
        await db_session.flush()


async def test_main_credentials_are_unique_per_account_and_venue(db_session: AsyncSession) -> None:
    _bot, account = await _bot_and_account(db_session)
    db_session.add_all(
        [
            AccountCredential(account_id=account.id, venue="binance"),
            AccountCredential(account_id=account.id, venue="binance", sub_account="sub-1"),
        ]
    )
    await db_session.flush()
    db_session.add(AccountCredential(account_id=account.id, venue="binance"))
    with pytest.raises(IntegrityError):
        await db_session.flush()


async def test_a_position_spans_venues_and_owns_its_legs(db_session: AsyncSession) -> None:
    bot, account = await _bot_and_account(db_session)
    position = Position(bot_id=bot.id, status="open", operation_id="op-9", opened_at=NOW)
    position.legs = [
        PositionLeg(
            venue="binance",
            account_id=account.id,
            symbol="ETH",
            side="short",
            size=Decimal("1.5"),
            entry_price=Decimal("3000.25"),
        ),
        PositionLeg(
            venue="hyperliquid",
            account_id=account.id,
            symbol="ETH",
            side="long",
            size=Decimal("1.5"),
            entry_price=Decimal("2999.75"),
        ),
    ]
    db_session.add(position)
    await db_session.commit()

    legs = (await db_session.scalars(select(PositionLeg).order_by(PositionLeg.venue))).all()
    assert [(leg.venue, leg.side, leg.fees, leg.funding) for leg in legs] == [
        ("binance", "short", Decimal(0), Decimal(0)),
        ("hyperliquid", "long", Decimal(0), Decimal(0)),
    ]
    await db_session.delete(position)
    await db_session.commit()
    assert await db_session.scalar(select(func.count()).select_from(PositionLeg)) == 0
