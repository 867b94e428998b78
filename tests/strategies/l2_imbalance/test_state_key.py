"""The step decides whether to save by comparing a cheap key of the state with the last
save's: the key must change exactly when the saved JSON would."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from strategies.l2_imbalance.strategy import Trade

D = Decimal
OPENED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TRADE = Trade("BTC", "buy", D("1.00"), D("100.0"), D("0.05"), OPENED, "stop-1")


@pytest.mark.parametrize(
    "changed",
    [
        {"symbol": "ETH"},
        {"side": "sell"},
        {"size": D("0.5")},
        {"entry_price": D("100.1")},
        {"entry_fee": D("0.04")},
        {"opened_at": OPENED + timedelta(microseconds=1)},
        # The same instant in another offset: equal datetimes, a different ISO string.
        {"opened_at": OPENED.astimezone(timezone(timedelta(hours=2)))},
        {"stop_id": None},
        {"stop_id": "stop-2"},
    ],
)
def test_the_key_changes_when_the_saved_form_does(changed: dict[str, object]) -> None:
    other = replace(TRADE, **changed)  # type: ignore[arg-type]
    assert other.to_json() != TRADE.to_json()
    assert other.key() != TRADE.key()


def test_the_key_is_equal_when_the_saved_form_is() -> None:
    # Decimals equal in value (1.0 vs 1.00) compare equal in the saved dict too.
    same = replace(TRADE, size=D("1.0"), entry_price=D("100.00"))
    assert same.to_json() == TRADE.to_json()
    assert same.key() == TRADE.key()
