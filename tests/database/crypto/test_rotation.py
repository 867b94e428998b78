"""Key rotation: all secrets move to the new key, or none do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.crypto import rotation
from database.crypto.cipher import unseal
from database.crypto.contexts import credential_context, proxy_context
from database.crypto.keyring import stored_fingerprint
from database.crypto.keys import (
    MasterKey,
    key_file_path,
    parse_key,
    pending_key_file_path,
    read_key_file,
)
from database.crypto.rotation import rotate_master_key
from database.errors import MasterKeyError, SecretTampered, WrongMasterKey
from database.models import AccountCredential, AuditLogEntry, Proxy
from database.proxy_url import parse_proxy_url
from database.repositories.accounts import get_account_credentials
from database.repositories.proxies import add_proxy, assign_proxy, get_account_proxies
from tests.database.conftest import API_SECRET, add_binance, new_encoded_key


async def _populate(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await add_binance(session, "alice")
        await add_binance(session, "bob", api_secret="bob-secret-0123456789")
        await add_proxy(session, parse_proxy_url("socks5://u1:p4ssw0rd-1@10.0.0.1:1080"), label="a")
        await add_proxy(session, parse_proxy_url("http://u2:p4ssw0rd-2@10.0.0.2:8080"), label="b")
        await add_proxy(session, parse_proxy_url("http://10.0.0.3:8080"), label="open")
        await assign_proxy(session, "alice", "a")


async def _blobs(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[Any, bytes]]:
    async with sessions() as session:
        credentials = (await session.scalars(select(AccountCredential))).all()
        proxies = (await session.scalars(select(Proxy).where(Proxy.auth_blob.is_not(None)))).all()
    blobs: list[tuple[Any, bytes]] = []
    blobs += [(credential_context(c), c.secrets_blob) for c in credentials if c.secrets_blob]
    blobs += [(proxy_context(p), p.auth_blob) for p in proxies if p.auth_blob]
    return blobs


def _all_open_with(key: MasterKey, blobs: list[tuple[Any, bytes]]) -> bool:
    for context, blob in blobs:
        unseal(key, blob, context)
    return True


def _none_open_with(key: MasterKey, blobs: list[tuple[Any, bytes]]) -> bool:
    for context, blob in blobs:
        with pytest.raises(WrongMasterKey):
            unseal(key, blob, context)
    return True


async def test_rotation_with_a_key_file(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    await _populate(db_sessions)
    old = read_key_file(key_file_path())

    result = await rotate_master_key(db_sessions, actor="tester")

    new = read_key_file(key_file_path())
    assert new.fingerprint != old.fingerprint
    assert (result.old_fingerprint, result.new_fingerprint) == (
        old.fingerprint_hex,
        new.fingerprint_hex,
    )
    assert (result.credentials, result.proxies, result.from_environment) == (2, 2, False)
    assert not pending_key_file_path().exists()
    blobs = await _blobs(db_sessions)
    assert len(blobs) == 4
    assert _all_open_with(new, blobs)
    assert _none_open_with(old, blobs)
    async with db_sessions() as session:
        assert await stored_fingerprint(session) == new.fingerprint_hex
        _public, secrets = await get_account_credentials(session, "alice", "binance")
        assert secrets["api_secret"].reveal() == API_SECRET
        proxies = await get_account_proxies(session, "alice")
        assert proxies[0].url.password is not None
        assert proxies[0].url.password.reveal() == "p4ssw0rd-1"
        audit = await session.scalar(
            select(AuditLogEntry).where(AuditLogEntry.action == "master_key.rotate")
        )
    assert audit is not None
    assert audit.actor == "tester"
    assert audit.details["new_fingerprint"] == new.fingerprint_hex


async def test_rotation_with_env_keys(
    db_sessions: async_sessionmaker[AsyncSession],
    use_env_key: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old_encoded = use_env_key()
    await _populate(db_sessions)
    with pytest.raises(MasterKeyError, match="put the new key in PERPFLEET_NEW_MASTER_KEY"):
        await rotate_master_key(db_sessions)

    monkeypatch.setenv("PERPFLEET_NEW_MASTER_KEY", old_encoded)
    with pytest.raises(MasterKeyError, match="is the current master key"):
        await rotate_master_key(db_sessions)

    new_encoded = new_encoded_key()
    monkeypatch.setenv("PERPFLEET_NEW_MASTER_KEY", new_encoded)
    result = await rotate_master_key(db_sessions)
    assert result.from_environment
    assert not key_file_path().exists()
    old, new = parse_key(old_encoded, "old"), parse_key(new_encoded, "new")
    blobs = await _blobs(db_sessions)
    assert _all_open_with(new, blobs)
    assert _none_open_with(old, blobs)

    monkeypatch.setenv("PERPFLEET_MASTER_KEY", new_encoded)
    async with db_sessions() as session:
        _public, secrets = await get_account_credentials(session, "bob", "binance")
    assert secrets["api_secret"].reveal() == "bob-secret-0123456789"


async def test_failure_midway_leaves_everything_under_the_old_key(
    db_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _populate(db_sessions)
    old = read_key_file(key_file_path())
    before = await _blobs(db_sessions)
    real_seal = rotation.seal
    calls = 0

    def failing_seal(*args: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 3:  # after both credentials, on the first proxy
            raise RuntimeError("disk on fire")
        return real_seal(*args)

    monkeypatch.setattr(rotation, "seal", failing_seal)
    with pytest.raises(RuntimeError, match="disk on fire"):
        await rotate_master_key(db_sessions)

    assert await _blobs(db_sessions) == before
    assert _all_open_with(old, before)
    assert read_key_file(key_file_path()).fingerprint == old.fingerprint
    assert not pending_key_file_path().exists()
    async with db_sessions() as session:
        assert await stored_fingerprint(session) == old.fingerprint_hex
        rotations = await session.scalars(
            select(AuditLogEntry).where(AuditLogEntry.action == "master_key.rotate")
        )
        assert rotations.all() == []


async def test_crash_after_commit_is_completed_by_the_next_key_load(
    db_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _populate(db_sessions)
    old = read_key_file(key_file_path())

    def crash(*_args: Any) -> None:
        raise SystemExit("killed between commit and key file swap")

    monkeypatch.setattr(rotation, "replace_key_file", crash)
    with pytest.raises(SystemExit):
        await rotate_master_key(db_sessions)
    assert read_key_file(key_file_path()).fingerprint == old.fingerprint  # old file still there
    assert pending_key_file_path().exists()

    async with db_sessions() as session:  # next start: the database says the new key is in force
        _public, secrets = await get_account_credentials(session, "alice", "binance")
    assert secrets["api_secret"].reveal() == API_SECRET
    assert not pending_key_file_path().exists()
    assert read_key_file(key_file_path()).fingerprint != old.fingerprint


async def test_rotating_again_after_a_crash_keeps_the_committed_key(
    db_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _populate(db_sessions)
    real_replace = rotation.replace_key_file

    def crash(*_args: Any) -> None:
        raise SystemExit("killed between commit and key file swap")

    monkeypatch.setattr(rotation, "replace_key_file", crash)
    with pytest.raises(SystemExit):
        await rotate_master_key(db_sessions)
    monkeypatch.setattr(rotation, "replace_key_file", real_replace)

    await rotate_master_key(db_sessions)  # the operator simply runs rotate-key again

    newest = read_key_file(key_file_path())
    blobs = await _blobs(db_sessions)
    assert _all_open_with(newest, blobs)
    async with db_sessions() as session:
        assert await stored_fingerprint(session) == newest.fingerprint_hex


async def test_nothing_to_rotate_before_the_first_secret(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(MasterKeyError, match="no secrets are stored yet"):
        await rotate_master_key(db_sessions)
    assert not pending_key_file_path().exists()


async def test_tampered_blob_aborts_rotation(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    await _populate(db_sessions)
    async with db_sessions() as session, session.begin():
        row = await session.scalar(select(Proxy).where(Proxy.label == "b"))
        assert row is not None
        row.host = "evil.example"  # re-pointing the login at another host
    with pytest.raises(SecretTampered):
        await rotate_master_key(db_sessions)
    old = read_key_file(key_file_path())
    async with db_sessions() as session:
        assert await stored_fingerprint(session) == old.fingerprint_hex
