"""The ``newClientOrderId`` rule Binance-style venues enforce, checked before sending."""

from __future__ import annotations

import pytest

from core.errors import InvalidOrder
from exchange_clients.binance_style.ids import check_client_id


def test_ids_the_venue_accepts_pass_as_they_are() -> None:
    check_client_id("bot-1.A:b/c_d", venue="binance")
    check_client_id("x" * 36, venue="binance")


@pytest.mark.parametrize("bad", ["", "x" * 37, "has space", "é"])
def test_ids_outside_the_rule_are_refused_locally(bad: str) -> None:
    with pytest.raises(InvalidOrder, match="1-36 characters"):
        check_client_id(bad, venue="binance")
