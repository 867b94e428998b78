"""Helpers shared by the database tests."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.redaction import Secret
from database.models import AccountCredential
from database.repositories.accounts import add_credentials

API_KEY = "AKIAperpfleetTESTkey0001"
API_SECRET = "sEcReT-perpfleet-test-0123456789abcdef"


def new_encoded_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def use_env_key(monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], str]:
    """Set ``PERPFLEET_MASTER_KEY`` (a fresh key unless one is given); returns it."""

    def use(encoded: str | None = None) -> str:
        value = encoded or new_encoded_key()
        monkeypatch.setenv("PERPFLEET_MASTER_KEY", value)
        return value

    return use


async def add_binance(
    session: AsyncSession,
    account: str = "alice",
    *,
    api_key: str = API_KEY,
    api_secret: str = API_SECRET,
    sub_account: str = "",
) -> AccountCredential:
    return await add_credentials(
        session,
        account_name=account,
        venue="binance",
        sub_account=sub_account,
        public={"sub_account_email": f"{account}@example.com"},
        secrets={"api_key": Secret(api_key), "api_secret": Secret(api_secret)},
    )
