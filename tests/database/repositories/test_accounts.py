"""Accounts and credentials: validation, encryption at rest, retrieval for the runtime."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConfigError
from core.redaction import Secret
from database.errors import AlreadyExists, InvalidInput, NotFound, SecretTampered
from database.models import Account, AccountCredential, Bot, Order
from database.repositories.accounts import (
    add_credentials,
    get_account_credentials,
    list_accounts,
    remove_account,
    remove_credentials,
)
from tests.database.conftest import API_KEY, API_SECRET, add_binance


async def test_credentials_round_trip_as_secrets(db_session: AsyncSession) -> None:
    await add_binance(db_session)
    public, secrets = await get_account_credentials(db_session, "alice", "binance")
    assert public == {"sub_account_email": "alice@example.com"}
    assert {name: value.reveal() for name, value in secrets.items()} == {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
    }
    assert all(isinstance(value, Secret) for value in secrets.values())
    assert API_SECRET not in repr(secrets)


async def test_only_ciphertext_is_stored(db_session: AsyncSession) -> None:
    row = await add_binance(db_session)
    assert row.secrets_blob is not None
    assert API_SECRET.encode() not in row.secrets_blob
    assert API_KEY.encode() not in row.secrets_blob
    assert row.secret_fields == ["api_key", "api_secret"]


async def test_second_venue_and_sub_accounts_join_the_same_account(
    db_session: AsyncSession,
) -> None:
    await add_binance(db_session)
    await add_binance(db_session, sub_account="hedge", api_secret="hedge-secret-000000")
    await add_credentials(
        db_session,
        account_name="alice",
        venue="lighter",
        public={"account_index": "7", "api_key_index": "2"},
        secrets={"api_key_private_key": Secret("0x" + "ab" * 40)},
    )
    assert await db_session.scalar(select(func.count()).select_from(Account)) == 1
    _public, secrets = await get_account_credentials(
        db_session, "alice", "binance", sub_account="hedge"
    )
    assert secrets["api_secret"].reveal() == "hedge-secret-000000"

    [summary] = await list_accounts(db_session)
    assert [(c.venue, c.sub_account, c.secret_fields) for c in summary.credentials] == [
        ("binance", "", ["api_key", "api_secret"]),
        ("binance", "hedge", ["api_key", "api_secret"]),
        ("lighter", "", ["api_key_private_key"]),
    ]
    assert summary.credentials[2].public_fields == {"account_index": "7", "api_key_index": "2"}


async def test_venue_without_credentials_needs_no_key(db_session: AsyncSession) -> None:
    row = await add_credentials(
        db_session, account_name="sim", venue="paper", public={}, secrets={}
    )
    assert row.secrets_blob is None
    assert await get_account_credentials(db_session, "sim", "paper") == ({}, {})


async def test_duplicate_credentials_are_refused_with_the_fix(db_session: AsyncSession) -> None:
    await add_binance(db_session)
    with pytest.raises(AlreadyExists, match="accounts remove --name alice --venue binance"):
        await add_binance(db_session)


@pytest.mark.parametrize(
    ("venue", "public", "secrets", "message"),
    [
        ("nope", {}, {"api_key": "x"}, "unknown venue 'nope'"),
        ("binance", {}, {"api_key": "x"}, "missing required binance credential field 'api_secret'"),
        ("binance", {"api_key": "x"}, {"api_secret": "y"}, "'api_key' is secret"),
        (
            "binance",
            {},
            {"api_key": "x", "api_secret": "y", "sub_account_email": "e"},
            "not secret",
        ),
        (
            "binance",
            {},
            {"api_key": "x", "api_secret": "y", "bogus": "z"},
            "no credential field 'bogus'",
        ),
        ("aster", {}, {}, "no credentials given for aster"),
    ],
)
async def test_fields_are_checked_against_the_venue(
    db_session: AsyncSession,
    venue: str,
    public: dict[str, str],
    secrets: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(ConfigError, match=message):
        await add_credentials(
            db_session,
            account_name="alice",
            venue=venue,
            public=public,
            secrets={k: Secret(v) for k, v in secrets.items()},
        )
    assert await db_session.scalar(select(func.count()).select_from(AccountCredential)) == 0


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "-leading", "semi;colon"])
async def test_account_names_are_validated(db_session: AsyncSession, name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid account name"):
        await add_binance(db_session, name)


async def test_missing_account_or_venue_names_the_command(db_session: AsyncSession) -> None:
    with pytest.raises(
        NotFound, match=r"unknown account 'ghost'; add it with `python -m database accounts add"
    ):
        await get_account_credentials(db_session, "ghost", "binance")
    await add_binance(db_session)
    with pytest.raises(NotFound) as caught:
        await get_account_credentials(db_session, "alice", "lighter")
    assert str(caught.value) == (
        "account 'alice' has no lighter credentials; add them with "
        "`python -m database accounts add --name alice --venue lighter`"
    )


async def test_blob_swapped_between_accounts_is_detected(db_session: AsyncSession) -> None:
    alice = await add_binance(db_session, "alice")
    bob = await add_binance(db_session, "bob", api_secret="bobs-own-secret-0000")
    alice_blob, bob_blob = alice.secrets_blob, bob.secrets_blob
    await db_session.execute(
        update(AccountCredential)
        .where(AccountCredential.id == alice.id)
        .values(secrets_blob=bob_blob)
    )
    await db_session.execute(
        update(AccountCredential)
        .where(AccountCredential.id == bob.id)
        .values(secrets_blob=alice_blob)
    )
    db_session.expire_all()
    for account in ("alice", "bob"):
        with pytest.raises(SecretTampered, match="altered or moved from another row"):
            await get_account_credentials(db_session, account, "binance")


async def test_flipped_byte_in_stored_blob_is_detected(db_session: AsyncSession) -> None:
    row = await add_binance(db_session)
    assert row.secrets_blob is not None
    tampered = bytearray(row.secrets_blob)
    tampered[-5] ^= 0x10
    await db_session.execute(
        update(AccountCredential)
        .where(AccountCredential.id == row.id)
        .values(secrets_blob=bytes(tampered))
    )
    db_session.expire_all()
    with pytest.raises(SecretTampered):
        await get_account_credentials(db_session, "alice", "binance")


async def test_remove_credentials_then_account(db_session: AsyncSession) -> None:
    await add_binance(db_session)
    await add_binance(db_session, sub_account="hedge")
    assert await remove_credentials(db_session, "alice", "binance", "hedge") == 1
    with pytest.raises(NotFound):
        await remove_credentials(db_session, "alice", "lighter")
    await remove_account(db_session, "alice")
    assert await db_session.scalar(select(func.count()).select_from(AccountCredential)) == 0
    with pytest.raises(NotFound):
        await remove_account(db_session, "alice")


async def test_account_with_trading_history_is_kept(db_session: AsyncSession) -> None:
    row = await add_binance(db_session)
    bot = Bot(name="grid-1", config={})
    db_session.add(bot)
    await db_session.flush()
    db_session.add(
        Order(
            client_order_id="c-1",
            bot_id=bot.id,
            venue="binance",
            account_id=row.account_id,
            symbol="BTC",
            side="buy",
            order_type="market",
            size=Decimal("0.01"),
        )
    )
    await db_session.commit()
    with pytest.raises(InvalidInput, match="has trading history"):
        await remove_account(db_session, "alice")
