"""Master key rotation: every secret re-encrypted in one transaction, all or nothing.

Order of operations, chosen so that a crash at any point loses nothing:

1. (key file) the new key is written to ``master.key.new`` (0600) — the old
   ``master.key`` is untouched, so until step 2 commits everything still works
   with the old key;
2. one database transaction re-encrypts every credential and proxy login and
   switches ``master_key_fingerprint`` to the new key, then commits;
3. (key file) ``master.key.new`` atomically replaces ``master.key``.

A crash between 2 and 3 leaves a pending file whose fingerprint is the
database's: the next key load finishes step 3 (:mod:`database.crypto.keyring`).
A failure before the commit rolls back and removes the pending file. With an
environment key, the new key comes from ``$PERPFLEET_NEW_MASTER_KEY`` and the
operator swaps the variables afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.paths import var_dir
from database.crypto.cipher import blob_version, seal, unseal
from database.crypto.contexts import credential_context, proxy_context
from database.crypto.keyring import FINGERPRINT_SETTING, resolve_key, stored_fingerprint
from database.crypto.keys import (
    MASTER_KEY_ENV,
    NEW_MASTER_KEY_ENV,
    MasterKey,
    describe_file_source,
    generate_key,
    key_file_path,
    key_from_env,
    pending_key_file_path,
    publish_key_file,
    replace_key_file,
)
from database.errors import MasterKeyError
from database.models import AccountCredential, Proxy
from database.repositories.audit import record_audit
from database.repositories.settings import set_setting

LOCK_FILE_NAME = "master.key.lock"

# A lazy proxy: binding happens per call, after the CLI/runtime has configured logging.
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RotationResult:
    old_fingerprint: str
    new_fingerprint: str
    credentials: int
    proxies: int
    from_environment: bool


async def rotate_master_key(
    sessions: async_sessionmaker[AsyncSession], *, actor: str | None = None
) -> RotationResult:
    """Re-encrypt every secret under a new master key (see the module docstring)."""
    if key_from_env() is not None:
        return await _rotate(sessions, _new_key_from_env(), actor=actor, pending=None)
    with _rotation_lock():
        await _finish_interrupted_rotation(sessions)
        pending = pending_key_file_path()
        # Under the lock no other rotation is writing it, and one the database had switched to
        # was just completed: whatever is left is from a rotation that never committed.
        _discard(pending)
        new_key = generate_key(describe_file_source(key_file_path()))
        publish_key_file(pending, new_key)
        result = await _rotate(sessions, new_key, actor=actor, pending=pending)
        with contextlib.suppress(FileNotFoundError):  # a concurrent key load already swapped it
            replace_key_file(pending, key_file_path())
        return result


async def _finish_interrupted_rotation(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Swap in a pending key the database already uses, before anything touches the files."""
    async with sessions() as session:
        if await stored_fingerprint(session) is not None:
            await resolve_key(session, writing=False)


async def _rotate(
    sessions: async_sessionmaker[AsyncSession],
    new_key: MasterKey,
    *,
    actor: str | None,
    pending: Path | None,
) -> RotationResult:
    async with sessions() as session:
        try:
            result = await _reencrypt_everything(session, new_key, actor=actor)
        except BaseException:
            await session.rollback()
            if pending is not None:
                _discard(pending)
            raise
        # A failure inside commit is ambiguous (it may have committed): the pending file is
        # kept so the next key load can tell from the database which key is in force.
        await session.commit()
    log.info(
        "master key rotated",
        old_fingerprint=result.old_fingerprint,
        new_fingerprint=result.new_fingerprint,
        credentials=result.credentials,
        proxies=result.proxies,
    )
    return result


async def _reencrypt_everything(
    session: AsyncSession, new_key: MasterKey, *, actor: str | None
) -> RotationResult:
    # Lock the fingerprint first: writers of secrets take it in share mode, so none can add a
    # blob under the old key while this transaction re-encrypts.
    stored = await stored_fingerprint(session, lock="update")
    if stored is None:
        raise MasterKeyError("no secrets are stored yet, so there is no master key to rotate")
    old_key = await resolve_key(session, writing=False)
    if new_key.fingerprint == old_key.fingerprint:
        raise MasterKeyError(f"{NEW_MASTER_KEY_ENV} is the current master key; nothing to rotate")

    credentials = (
        await session.scalars(
            select(AccountCredential)
            .where(AccountCredential.secrets_blob.is_not(None))
            .order_by(AccountCredential.id)
        )
    ).all()
    for credential in credentials:
        assert credential.secrets_blob is not None
        # Opened as the version it was written with, written back as the current version.
        old_context = credential_context(credential, blob_version(credential.secrets_blob))
        plaintext = unseal(old_key, credential.secrets_blob, old_context)
        credential.secrets_blob = seal(new_key, plaintext, credential_context(credential))
    proxies = (
        await session.scalars(select(Proxy).where(Proxy.auth_blob.is_not(None)).order_by(Proxy.id))
    ).all()
    for proxy in proxies:
        assert proxy.auth_blob is not None
        context = proxy_context(proxy)
        proxy.auth_blob = seal(new_key, unseal(old_key, proxy.auth_blob, context), context)

    await set_setting(session, FINGERPRINT_SETTING, new_key.fingerprint_hex)
    result = RotationResult(
        old_fingerprint=old_key.fingerprint_hex,
        new_fingerprint=new_key.fingerprint_hex,
        credentials=len(credentials),
        proxies=len(proxies),
        from_environment=old_key.source == MASTER_KEY_ENV,
    )
    await record_audit(
        session,
        "master_key.rotate",
        "master_key",
        {
            "old_fingerprint": result.old_fingerprint,
            "new_fingerprint": result.new_fingerprint,
            "credentials": result.credentials,
            "proxies": result.proxies,
        },
        actor=actor,
    )
    return result


def _discard(pending: Path) -> None:
    """Remove the pending key of a rotation that certainly did not commit."""
    pending.unlink(missing_ok=True)


def _new_key_from_env() -> MasterKey:
    new_key = key_from_env(NEW_MASTER_KEY_ENV)
    if new_key is None:
        raise MasterKeyError(
            f"the master key comes from {MASTER_KEY_ENV}: put the new key in "
            f"{NEW_MASTER_KEY_ENV} to rotate"
        )
    return new_key


@contextlib.contextmanager
def _rotation_lock() -> Iterator[None]:
    """One key-file rotation at a time on this machine (two would fight over master.key.new)."""
    path = var_dir() / LOCK_FILE_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MasterKeyError(f"another key rotation is running (lock {path})") from None
        yield
    finally:
        os.close(fd)
