"""Choosing the master key and checking it against the database.

The database remembers the fingerprint of the key its secrets are encrypted
with (``app_settings.master_key_fingerprint``). Every read and write of secrets
goes through :func:`resolve_key`, which

* takes the key from ``$PERPFLEET_MASTER_KEY``, else from ``var/master.key``;
* finishes a rotation that committed but crashed before swapping key files
  (``master.key.new`` whose fingerprint is the database's);
* refuses a key whose fingerprint is not the database's (nothing is written);
* on the very first secret write, creates the key file if needed and records
  the fingerprint in the same transaction as the secret.

Writers lock the fingerprint row in share mode (PostgreSQL) so a concurrent
rotation, which locks it for update, cannot miss a freshly written blob.
"""

from __future__ import annotations

import contextlib

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from database.crypto.keys import (
    MASTER_KEY_ENV,
    MasterKey,
    describe_file_source,
    generate_key,
    key_file_path,
    key_from_env,
    pending_key_file_path,
    publish_key_file,
    read_key_file,
    replace_key_file,
)
from database.errors import MasterKeyError, WrongMasterKey
from database.repositories.settings import LockMode, get_setting, set_setting

FINGERPRINT_SETTING = "master_key_fingerprint"

# A lazy proxy: binding happens per call, after the CLI/runtime has configured logging.
log = structlog.get_logger(__name__)


async def stored_fingerprint(session: AsyncSession, *, lock: LockMode | None = None) -> str | None:
    """The fingerprint of the key the database's secrets use, or None before the first secret."""
    return await get_setting(session, FINGERPRINT_SETTING, lock=lock)


async def resolve_key(
    session: AsyncSession, *, writing: bool, key: MasterKey | None = None
) -> MasterKey:
    """The master key to use in this transaction, verified against the database.

    ``key`` overrides the configured key (tests, rotation). With ``writing``,
    the first key ever used is recorded as the database's key.
    """
    stored = await stored_fingerprint(session, lock="share" if writing else None)
    if key is None:
        key = key_from_env() or _key_from_file(stored, create=writing and stored is None)
    if stored is None:
        if writing:
            await set_setting(session, FINGERPRINT_SETTING, key.fingerprint_hex)
            log.info("master key recorded", fingerprint=key.fingerprint_hex, source=key.source)
    elif stored != key.fingerprint_hex:
        raise WrongMasterKey(
            f"the active master key ({key.source}, fingerprint {key.fingerprint_hex}) is not the "
            f"key this database's secrets are encrypted with (fingerprint {stored}); "
            f"set {MASTER_KEY_ENV} to that key or restore its key file"
        )
    return key


def _key_from_file(stored: str | None, *, create: bool) -> MasterKey:
    path = key_file_path()
    pending = pending_key_file_path()
    if stored is not None and pending.exists():
        candidate = read_key_file(pending)
        if candidate.fingerprint_hex == stored:
            # A rotation committed but died before swapping files: finish it.
            with contextlib.suppress(FileNotFoundError):  # another process finished it first
                replace_key_file(pending, path)
                log.warning("completed an interrupted master key rotation", key_file=str(path))
            return MasterKey(candidate.material, describe_file_source(path))
    if path.exists():
        return read_key_file(path)
    if stored is not None:
        raise MasterKeyError(
            f"this database's secrets are encrypted with master key {stored}, but no key is "
            f"configured: set {MASTER_KEY_ENV} or restore {path}"
        )
    if not create:
        raise MasterKeyError(f"no master key configured: set {MASTER_KEY_ENV} or create {path}")
    if publish_key_file(path, generate_key(describe_file_source(path))):
        log.info("created master key file", key_file=str(path))
    # Read back what is on disk: if another process created it first, its key is the key.
    return read_key_file(path)
