"""Accounts and their per-venue credentials (secrets encrypted, public fields in clear)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.redaction import Secret
from core.venues import Venue, get_venue
from database.credential_formats import check_value
from database.crypto.cipher import BLOB_VERSION, blob_version, seal_fields, unseal_fields
from database.crypto.contexts import credential_context
from database.crypto.keyring import resolve_key
from database.crypto.keys import MasterKey
from database.errors import AlreadyExists, InvalidInput, NotFound, SecretTampered
from database.models import MAIN_ACCOUNT, Account, AccountCredential

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


@dataclass(frozen=True)
class CredentialSummary:
    """What ``accounts list`` shows: never a secret value, only the secret fields' names."""

    venue: str
    sub_account: str
    public_fields: dict[str, str]
    secret_fields: list[str]


@dataclass(frozen=True)
class AccountSummary:
    name: str
    credentials: list[CredentialSummary]


def _check_name(kind: str, name: str) -> str:
    """Account and sub-account names: short, printable, shell-friendly."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid {kind} name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


async def find_account(session: AsyncSession, name: str) -> Account:
    account = await session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFound(
            f"unknown account {name!r}; add it with "
            f"`python -m database accounts add --name {name} --venue VENUE`"
        )
    return account


async def add_credentials(
    session: AsyncSession,
    *,
    account_name: str,
    venue: str,
    public: Mapping[str, str],
    secrets: Mapping[str, Secret],
    sub_account: str = MAIN_ACCOUNT,
    key: MasterKey | None = None,
) -> AccountCredential:
    """Store credentials for ``account_name`` on ``venue``, creating the account if new.

    Field names are checked against the venue catalogue (unknown, secret given
    as public or vice versa, required missing). Secrets are sealed under the
    database's master key, which is created and recorded on first use.
    """
    spec = get_venue(venue)
    _check_name("account", account_name)
    if sub_account:
        _check_name("sub-account", sub_account)
    _check_fields(spec, public, secrets)
    public, secrets = _checked_formats(spec, public, secrets)

    await require_no_credentials(session, account_name, venue, sub_account)
    account = await session.scalar(select(Account).where(Account.name == account_name))
    if account is None:
        account = Account(name=account_name)
        session.add(account)
        await session.flush()

    row = AccountCredential(
        account_id=account.id,
        venue=venue,
        sub_account=sub_account,
        public_fields=dict(public),
        secret_fields=sorted(secrets),
    )
    if secrets:
        active = await resolve_key(session, writing=True, key=key)
        plain = {name: value.reveal() for name, value in secrets.items()}
        row.secrets_blob = seal_fields(active, plain, credential_context(row))
    session.add(row)
    await session.flush()
    return row


async def require_no_credentials(
    session: AsyncSession, account_name: str, venue: str, sub_account: str = MAIN_ACCOUNT
) -> None:
    """Raise :class:`AlreadyExists` (with the command that removes them) when stored already.

    ``accounts add`` calls it before prompting, so nobody types secrets that cannot be stored.
    """
    existing = await session.scalar(
        select(AccountCredential.id)
        .join(Account, Account.id == AccountCredential.account_id)
        .where(
            Account.name == account_name,
            AccountCredential.venue == venue,
            AccountCredential.sub_account == sub_account,
        )
    )
    if existing is not None:
        where = f" (sub-account {sub_account})" if sub_account else ""
        option = f" --sub-account {sub_account}" if sub_account else ""
        raise AlreadyExists(
            f"account {account_name!r} already has {venue} credentials{where}; remove them first "
            f"with `python -m database accounts remove --name {account_name} --venue {venue}"
            f"{option}`"
        )


async def get_account_credentials(
    session: AsyncSession,
    account_name: str,
    venue: str,
    *,
    sub_account: str = MAIN_ACCOUNT,
    key: MasterKey | None = None,
) -> tuple[dict[str, str], dict[str, Secret]]:
    """``(public fields, secret fields)`` of an account on a venue, secrets decrypted.

    For the bot runtime, at the point a venue client is built. Raises a
    ``ConfigError`` naming the command that adds what is missing, and
    :class:`SecretTampered` when the row was changed outside perpfleet: its public fields or
    secret-field names edited (they are authenticated with the secrets), or its encrypted
    secrets missing although the venue needs some (a NULL blob used to pass ``--check`` and
    then fail at the venue, or trade with empty keys).

    A row written before public fields were authenticated (blob version 1) is read the old way
    and rewritten as the current version in this session (committed with it, if the caller
    commits), so every stored row ends up authenticated.
    """
    account = await find_account(session, account_name)
    row = await session.scalar(
        select(AccountCredential).where(
            AccountCredential.account_id == account.id,
            AccountCredential.venue == venue,
            AccountCredential.sub_account == sub_account,
        )
    )
    if row is None:
        where = f" (sub-account {sub_account})" if sub_account else ""
        option = f" --sub-account {sub_account}" if sub_account else ""
        raise NotFound(
            f"account {account_name!r} has no {venue} credentials{where}; add them with "
            f"`python -m database accounts add --name {account_name} --venue {venue}{option}`"
        )
    label = f"account {account_name!r} on {venue}" + (
        f" (sub-account {sub_account})" if sub_account else ""
    )
    fix = (
        "it was changed outside perpfleet: check who can write the database, then remove and "
        f"re-add the credentials (`python -m database accounts remove --name {account_name} "
        f"--venue {venue}`)"
    )
    blob = row.secrets_blob
    has_secret_fields = any(field.secret for field in get_venue(venue).credential_fields)
    if blob is None:
        if row.secret_fields or has_secret_fields:
            raise SecretTampered(
                f"{label}: the encrypted secrets are missing from the database; {fix}"
            )
        return {name: str(value) for name, value in row.public_fields.items()}, {}
    version = blob_version(blob)
    active = await resolve_key(session, writing=version < BLOB_VERSION, key=key)
    try:
        plain = unseal_fields(active, blob, credential_context(row, version))
    except SecretTampered:
        raise SecretTampered(
            f"{label}: the stored credentials failed authentication: the encrypted secrets, "
            f"the public fields {sorted(row.public_fields)} or the secret-field names were "
            f"altered or moved from another row; {fix}"
        ) from None
    if sorted(plain) != sorted(row.secret_fields):  # version 1 did not bind the names
        raise SecretTampered(
            f"{label}: the secret-field names do not match the encrypted secrets; {fix}"
        )
    if version < BLOB_VERSION:
        row.secrets_blob = seal_fields(active, plain, credential_context(row))
        await session.flush()
    secrets = {name: Secret(value) for name, value in plain.items()}
    return {name: str(value) for name, value in row.public_fields.items()}, secrets


async def list_accounts(session: AsyncSession) -> list[AccountSummary]:
    """Every account with what it holds per venue, without decrypting anything."""
    accounts = await session.scalars(
        select(Account).options(selectinload(Account.credentials)).order_by(Account.name)
    )
    return [
        AccountSummary(
            name=account.name,
            credentials=[
                CredentialSummary(
                    venue=row.venue,
                    sub_account=row.sub_account,
                    public_fields={k: str(v) for k, v in sorted(row.public_fields.items())},
                    secret_fields=list(row.secret_fields),
                )
                for row in sorted(account.credentials, key=lambda r: (r.venue, r.sub_account))
            ],
        )
        for account in accounts
    ]


async def remove_account(session: AsyncSession, name: str) -> None:
    """Delete an account with its credentials and proxy assignments.

    An account that orders, positions or funding rows refer to is kept: that
    history is the record of real money.
    """
    account = await find_account(session, name)
    await session.delete(account)
    try:
        await session.flush()
    except IntegrityError:
        raise InvalidInput(
            f"account {name!r} has trading history (orders, positions or funding) and cannot "
            "be removed"
        ) from None


async def remove_credentials(
    session: AsyncSession, name: str, venue: str, sub_account: str | None = None
) -> int:
    """Delete an account's credentials on ``venue`` (one sub-account, or all); returns the count."""
    account = await find_account(session, name)
    query = select(AccountCredential).where(
        AccountCredential.account_id == account.id, AccountCredential.venue == venue
    )
    if sub_account is not None:
        query = query.where(AccountCredential.sub_account == sub_account)
    rows = (await session.scalars(query)).all()
    if not rows:
        raise NotFound(f"account {name!r} has no {venue} credentials to remove")
    for row in rows:
        await session.delete(row)
    await session.flush()
    return len(rows)


def _checked_formats(
    venue: Venue, public: Mapping[str, str], secrets: Mapping[str, Secret]
) -> tuple[dict[str, str], dict[str, Secret]]:
    """Every value checked against its field's format, in normal form - whichever front end
    (CLI, Telegram) gathered it, nothing malformed is stored."""
    formats = {field.name: field.format for field in venue.credential_fields}
    checked_public = {
        name: check_value(venue.name, name, formats[name], value) if value else value
        for name, value in public.items()
    }
    checked_secrets = {
        name: Secret(check_value(venue.name, name, formats[name], value.reveal()))
        for name, value in secrets.items()
    }
    return checked_public, checked_secrets


def _check_fields(venue: Venue, public: Mapping[str, str], secrets: Mapping[str, Secret]) -> None:
    fields = {field.name: field for field in venue.credential_fields}
    problems: list[str] = []
    for name in [*public, *secrets]:
        if name not in fields:
            expected = ", ".join(fields) or "none (it needs no credentials)"
            problems.append(f"{venue.name} has no credential field {name!r}: expected {expected}")
    problems += [
        f"{venue.name} field {name!r} is secret and must be stored encrypted"
        for name in public
        if name in fields and fields[name].secret
    ]
    problems += [
        f"{venue.name} field {name!r} is not secret; give it as a public field"
        for name in secrets
        if name in fields and not fields[name].secret
    ]
    problems += [
        f"missing required {venue.name} credential field {field.name!r} ({field.description})"
        for field in venue.credential_fields
        if field.required and field.name not in public and field.name not in secrets
    ]
    if fields and not public and not secrets and not problems:
        problems.append(
            f"no credentials given for {venue.name}: expected some of {', '.join(fields)}"
        )
    if problems:
        raise InvalidInput(problems)
