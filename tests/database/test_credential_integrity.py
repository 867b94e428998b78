"""Credential rows cannot be edited behind perpfleet's back (issue: public fields unauthenticated).

Why: the public fields of a credential row (``sub_account_email``, wallet addresses, account
indexes) decide where the bot trades, yet only the secrets were authenticated: an injected
``sub_account_email`` was accepted, and a row whose encrypted secrets were NULLed passed
``runbot.py --check``. Real databases on both backends, the real cipher, the real CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.crypto.cipher import BLOB_VERSION, blob_version, seal
from database.crypto.contexts import credential_context
from database.crypto.keyring import resolve_key
from database.errors import SecretTampered
from database.models import AccountCredential
from database.repositories.accounts import get_account_credentials
from tests.database.conftest import API_KEY, API_SECRET, add_binance, new_encoded_key
from tests.helpers import run_cli

Sessions = async_sessionmaker[AsyncSession]


async def _stored(sessions: Sessions) -> int:
    async with sessions.begin() as session:
        row = await add_binance(session)
        return row.id


async def _tamper(sessions: Sessions, row_id: int, **values: object) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(AccountCredential).where(AccountCredential.id == row_id).values(**values)
        )


async def _read(sessions: Sessions) -> tuple[dict[str, str], dict[str, str]]:
    async with sessions.begin() as session:
        public, secrets = await get_account_credentials(session, "alice", "binance")
    return public, {name: value.reveal() for name, value in secrets.items()}


async def test_an_injected_public_field_fails_authentication(db_sessions: Sessions) -> None:
    row_id = await _stored(db_sessions)
    await _tamper(db_sessions, row_id, public_fields={"sub_account_email": "mallory@example.com"})
    with pytest.raises(SecretTampered) as caught:
        await _read(db_sessions)
    message = str(caught.value)
    assert message.startswith(
        "account 'alice' on binance: the stored credentials failed authentication: "
    )
    assert "the public fields ['sub_account_email']" in message
    assert "accounts remove --name alice --venue binance" in message
    for secret in (API_KEY, API_SECRET, "mallory"):
        assert secret not in message


async def test_an_added_public_field_or_renamed_secret_field_fails(db_sessions: Sessions) -> None:
    row_id = await _stored(db_sessions)
    await _tamper(
        db_sessions,
        row_id,
        public_fields={"sub_account_email": "alice@example.com", "extra": "1"},
    )
    with pytest.raises(SecretTampered, match="failed authentication"):
        await _read(db_sessions)
    await _tamper(db_sessions, row_id, public_fields={"sub_account_email": "alice@example.com"})
    assert (await _read(db_sessions))[1] == {"api_key": API_KEY, "api_secret": API_SECRET}
    await _tamper(db_sessions, row_id, secret_fields=["api_key"])
    with pytest.raises(SecretTampered, match="failed authentication"):
        await _read(db_sessions)


async def test_a_missing_secret_blob_is_an_error_not_empty_credentials(
    db_sessions: Sessions,
) -> None:
    row_id = await _stored(db_sessions)
    await _tamper(db_sessions, row_id, secrets_blob=None, secret_fields=[])
    with pytest.raises(SecretTampered, match="the encrypted secrets are missing from the database"):
        await _read(db_sessions)


async def test_a_row_written_before_public_fields_were_bound_is_read_and_upgraded(
    db_sessions: Sessions,
) -> None:
    row_id = await _stored(db_sessions)
    async with db_sessions.begin() as session:  # rewrite it as the old format wrote it
        row = await session.get(AccountCredential, row_id)
        assert row is not None
        assert row.secrets_blob is not None
        assert blob_version(row.secrets_blob) == BLOB_VERSION == 2
        key = await resolve_key(session, writing=False)
        plain = json.dumps({"api_key": API_KEY, "api_secret": API_SECRET}).encode()
        row.secrets_blob = seal(key, plain, credential_context(row, 1), version=1)

    public, secrets = await _read(db_sessions)  # readable, and rewritten in that transaction
    assert (public, secrets) == (
        {"sub_account_email": "alice@example.com"},
        {"api_key": API_KEY, "api_secret": API_SECRET},
    )
    async with db_sessions() as session:
        blob = await session.scalar(
            select(AccountCredential.secrets_blob).where(AccountCredential.id == row_id)
        )
    assert blob is not None
    assert blob_version(blob) == 2
    await _tamper(db_sessions, row_id, public_fields={"sub_account_email": "x@example.com"})
    with pytest.raises(SecretTampered):
        await _read(db_sessions)


CONFIG = """\
name: integrity-check
strategy:
  type: funding_arbitrage
  params:
    venues: [paper, binance]
    target_margin_usd: 100
exchanges:
  paper: {}
  binance:
    account: main
"""


async def test_check_refuses_a_row_without_its_secrets(
    tmp_path: Path, migrated_db_url: str
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": new_encoded_key()}
    added = run_cli(
        ["-m", "database", "accounts", "add", "--name", "main", "--venue", "binance", "--from-env"],
        var,
        {**env, "PERPFLEET_BINANCE_API_KEY": API_KEY, "PERPFLEET_BINANCE_API_SECRET": API_SECRET},
    )
    assert added.returncode == 0, added.stderr
    config = tmp_path / "arb.yml"
    config.write_text(CONFIG)
    check = ["runbot.py", "--config", str(config), "--check"]
    assert run_cli(check, var, env).returncode == 0

    from database.engine import create_engine, session_maker

    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine).begin() as session:
            await session.execute(update(AccountCredential).values(secrets_blob=None))
    finally:
        await engine.dispose()
    result = run_cli(check, var, env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{config}:10: exchanges.binance.account: account 'main' on binance: the encrypted "
        "secrets are missing from the database; it was changed outside perpfleet: check who "
        "can write the database, then remove and re-add the credentials (`python -m database "
        "accounts remove --name main --venue binance`)"
    ]
