"""The database's master key: recorded on first use, enforced afterwards."""

from __future__ import annotations

import stat
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.crypto.keyring import resolve_key, stored_fingerprint
from database.crypto.keys import (
    generate_key,
    key_file_path,
    parse_key,
    pending_key_file_path,
    publish_key_file,
    read_key_file,
)
from database.errors import MasterKeyError, WrongMasterKey
from database.models import AccountCredential
from database.repositories.accounts import get_account_credentials
from tests.database.conftest import API_SECRET, add_binance


async def test_first_secret_creates_a_private_key_file_and_records_it(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert not key_file_path().exists()
    async with db_sessions() as session, session.begin():
        await add_binance(session)
    path = key_file_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    async with db_sessions() as session:
        assert await stored_fingerprint(session) == read_key_file(path).fingerprint_hex
        _public, secrets = await get_account_credentials(session, "alice", "binance")
    assert secrets["api_secret"].reveal() == API_SECRET


async def test_env_key_is_used_instead_of_a_file(
    db_sessions: async_sessionmaker[AsyncSession], use_env_key: Callable[[], str]
) -> None:
    encoded = use_env_key()
    async with db_sessions() as session, session.begin():
        await add_binance(session)
    assert not key_file_path().exists()
    async with db_sessions() as session:
        assert await stored_fingerprint(session) == parse_key(encoded, "x").fingerprint_hex


async def test_wrong_key_is_refused_and_nothing_changes(
    db_sessions: async_sessionmaker[AsyncSession], use_env_key: Callable[[], str]
) -> None:
    use_env_key()
    async with db_sessions() as session, session.begin():
        await add_binance(session)
        fingerprint = await stored_fingerprint(session)

    use_env_key()  # a different key
    async with db_sessions() as session:
        with pytest.raises(WrongMasterKey) as caught:
            await get_account_credentials(session, "alice", "binance")
    assert "PERPFLEET_MASTER_KEY" in str(caught.value)
    assert f"fingerprint {fingerprint}" in str(caught.value)

    async with db_sessions() as session:
        with pytest.raises(WrongMasterKey):
            async with session.begin():
                await add_binance(session, "bob")
    async with db_sessions() as session:
        assert await stored_fingerprint(session) == fingerprint
        assert await session.scalar(select(func.count()).select_from(AccountCredential)) == 1


async def test_missing_key_after_secrets_exist_is_a_clear_error(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session, session.begin():
        await add_binance(session)
    key_file_path().unlink()
    async with db_sessions() as session:
        with pytest.raises(MasterKeyError, match="no key is configured: set PERPFLEET_MASTER_KEY"):
            await get_account_credentials(session, "alice", "binance")
    assert not key_file_path().exists()  # a new key must not be invented for existing secrets


async def test_pending_key_from_a_committed_rotation_is_swapped_in(
    db_session: AsyncSession,
) -> None:
    old, new = generate_key("old"), generate_key("new")
    publish_key_file(key_file_path(), old)
    publish_key_file(pending_key_file_path(), new)
    await resolve_key(db_session, writing=True, key=new)  # the database says: new key in force

    key = await resolve_key(db_session, writing=False)
    assert key.fingerprint == new.fingerprint
    assert read_key_file(key_file_path()).fingerprint == new.fingerprint
    assert not pending_key_file_path().exists()


async def test_pending_key_of_an_uncommitted_rotation_is_ignored(db_session: AsyncSession) -> None:
    old, new = generate_key("old"), generate_key("new")
    publish_key_file(key_file_path(), old)
    await resolve_key(db_session, writing=True)
    publish_key_file(pending_key_file_path(), new)

    key = await resolve_key(db_session, writing=False)
    assert key.fingerprint == old.fingerprint
    assert read_key_file(key_file_path()).fingerprint == old.fingerprint
