"""Trading accounts and their encrypted per-venue credentials."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database.models.base import Base, CreatedAt, Timestamps
from database.types import JSONDocument

MAIN_ACCOUNT = ""
"""``sub_account`` value of an account's main (non-sub) credentials.

Not NULL: SQL treats NULLs as distinct in unique constraints (on both
backends), so a nullable column would let an account hold two "main"
credential sets for one venue.
"""


class Account(CreatedAt, Base):
    """A named trading identity (``main``, ``arb-1``) holding credentials on one or more venues."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)

    credentials: Mapped[list[AccountCredential]] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True
    )


class AccountCredential(Timestamps, Base):
    """An account's credentials on one venue (optionally one sub-account of it).

    ``public_fields`` holds the venue's non-secret fields in clear (wallet
    address, account index) so they can be listed without the master key.
    ``secrets_blob`` is one AES-GCM blob of a JSON object with every secret
    field (see :mod:`database.crypto.cipher`), NULL when the venue needs none;
    ``secret_fields`` lists the *names* stored in it, so ``accounts list`` can
    say what is there without decrypting anything.
    """

    __tablename__ = "account_credentials"
    __table_args__ = (UniqueConstraint("account_id", "venue", "sub_account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    venue: Mapped[str] = mapped_column(ForeignKey("venues.name"))
    sub_account: Mapped[str] = mapped_column(String(64), default=MAIN_ACCOUNT)
    public_fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    secret_fields: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    secrets_blob: Mapped[bytes | None] = mapped_column(LargeBinary)

    account: Mapped[Account] = relationship(back_populates="credentials")
