"""Pure wire rules: exact integer scaling both ways, market parsing, client order indexes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidOrder
from exchange_clients.lighter import wire
from exchange_clients.lighter.ids import ClientIdMap, client_order_index

D = Decimal

DETAILS = {
    "code": 200,
    "order_book_details": [
        {
            "symbol": "BTC",
            "market_id": 1,
            "status": "active",
            "size_decimals": 5,
            "price_decimals": 1,
            "min_base_amount": "0.00020",
            "min_quote_amount": "10.000000",
            "min_initial_margin_fraction": 200,
            "default_initial_margin_fraction": 500,
            "taker_fee": "0.0000",
            "maker_fee": "0.0000",
        },
        {"symbol": "OLD", "market_id": 9, "status": "inactive", "size_decimals": 0,
         "price_decimals": 0, "min_initial_margin_fraction": 1000},
    ],
}  # fmt: skip


def test_markets_from_order_book_details() -> None:
    (btc,) = wire.parse_markets(DETAILS)
    market = btc.market
    assert (market.symbol, market.contract_id) == ("BTC", "1")
    assert (market.tick_size, market.step_size) == (D("0.1"), D("0.00001"))
    assert (market.min_size, market.min_notional) == (D("0.00020"), D("10.000000"))
    assert market.max_leverage == 50


def test_scaling_is_exact_both_ways() -> None:
    (btc,) = wire.parse_markets(DETAILS)
    assert btc.base_amount(D("0.01234")) == 1234
    assert btc.base_amount(D("12.3")) == 1_230_000
    assert btc.price_int(D("61234.5")) == 612_345
    assert btc.price_int(D("61234.50000")) == 612_345
    assert btc.size_of(1234) == D("0.01234")
    assert btc.price_of(612_345) == D("61234.5")
    for size in (D("0.00001"), D("0.1"), D("123.45678")):
        assert btc.size_of(btc.base_amount(size)) == size
    with pytest.raises(InvalidOrder):
        btc.base_amount(D("0.000011"))
    with pytest.raises(InvalidOrder):
        btc.price_int(D("61234.55"))


def test_client_order_index_is_deterministic_and_in_range() -> None:
    assert client_order_index("bot-1-000001") == client_order_index("bot-1-000001")
    assert client_order_index("bot-1-000001") != client_order_index("bot-1-000002")
    indexes = {client_order_index(f"id-{i}") for i in range(10_000)}
    assert len(indexes) == 10_000
    assert all(1 <= i <= wire.MAX_CLIENT_ORDER_INDEX for i in indexes)
    # Pinned: an index must not change between releases (a restarted bot finds its orders).
    assert client_order_index("contract-000001") == 156381492925888


def test_a_collision_among_known_ids_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = ClientIdMap()
    monkeypatch.setattr("exchange_clients.lighter.ids.client_order_index", lambda _: 77)
    assert ids.index("first") == 77
    assert ids.index("first") == 77
    with pytest.raises(InvalidOrder, match="same client_order_index 77"):
        ids.index("second")
    assert ids.client_id(77) == "first"


def test_statuses_and_rejections() -> None:
    assert wire.order_status({"status": "open", "filled_base_amount": "0"}).value == "open"
    assert (
        wire.order_status({"status": "open", "filled_base_amount": "1"}).value == "partially_filled"
    )
    assert wire.order_status({"status": "canceled-post-only"}).value == "cancelled"
    assert wire.cancel_reason({"status": "canceled-post-only"}) == "post-only"
    assert wire.cancel_reason({"status": "canceled"}) is None
    assert wire.leverage_to_margin_fraction(D(3)) == 3333
    error = wire.api_error({"code": 21108, "message": "invalid PublicKey"}, context="order x")
    assert type(error).__name__ == "AuthenticationFailed"
