"""The merge rule shared by the journal, the tracker and the atomic results."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from exchange_clients.types import Order, OrderStatus, OrderType
from execution.order_state import is_stale_status, merge_order_state

D = Decimal


def order(
    status: OrderStatus, filled: str = "0", price: str | None = None, fee: str = "0"
) -> Order:
    return Order(
        client_order_id="c",
        venue_order_id=None if status is OrderStatus.PENDING else "v1",
        symbol="BTC",
        side="buy",
        order_type=OrderType.LIMIT,
        size=D(1),
        price=D(100),
        status=status,
        filled_size=D(filled),
        avg_fill_price=D(price) if price else None,
        fee_paid=D(fee),
    )


def test_a_final_status_is_kept_and_late_fills_still_count() -> None:
    cancelled = order(OrderStatus.CANCELLED, "0.2", "100", "0.01")
    late = order(OrderStatus.PARTIALLY_FILLED, "0.3", "100", "0.015")
    merged = merge_order_state(cancelled, late)
    assert (merged.status, merged.filled_size, merged.fee_paid) == (
        OrderStatus.CANCELLED,
        D("0.3"),
        D("0.015"),
    )
    assert is_stale_status(cancelled, late)


def test_a_requested_cancel_yields_only_to_a_final_status() -> None:
    asked = order(OrderStatus.PENDING_CANCEL)
    assert merge_order_state(asked, order(OrderStatus.OPEN)).status is OrderStatus.PENDING_CANCEL
    assert merge_order_state(asked, order(OrderStatus.FILLED, "1")).status is OrderStatus.FILLED


def test_a_stale_report_with_fewer_fills_changes_neither_fills_nor_fees() -> None:
    current = order(OrderStatus.PARTIALLY_FILLED, "0.5", "100", "-0.02")  # a maker rebate
    merged = merge_order_state(current, order(OrderStatus.OPEN))
    assert (merged.filled_size, merged.avg_fill_price, merged.fee_paid) == (
        D("0.5"),
        D("100"),
        D("-0.02"),
    )
    assert merged.venue_order_id == "v1"


statuses = st.sampled_from(list(OrderStatus))
fills = st.integers(min_value=0, max_value=100).map(lambda n: D(n) / 100)


@given(st.lists(st.tuples(statuses, fills), min_size=1, max_size=12))
def test_any_report_order_is_monotonic(reports: list[tuple[OrderStatus, Decimal]]) -> None:
    state = order(OrderStatus.PENDING)
    finished: OrderStatus | None = None
    for status, filled in reports:
        before = state
        state = merge_order_state(state, order(status, str(filled)))
        assert state.filled_size >= before.filled_size
        if finished is not None:
            assert state.status is finished
        elif state.status.is_final:
            finished = state.status


def test_a_report_that_changes_nothing_gives_back_the_order_itself() -> None:
    current = order(OrderStatus.OPEN)
    # A poll of a quiet order: equal values, the very same objects.
    same = Order(**{name: getattr(current, name) for name in current.__slots__})
    assert merge_order_state(current, same) is current
    # Equal but not the same fee object: merged as before (the report's fee is taken).
    other_fee = D("0.00")
    merged = merge_order_state(current, replace(same, fee_paid=other_fee))
    assert merged is not current
    assert merged == current
    assert merged.fee_paid is other_fee
    # A status that moves gives a new order.
    filled = merge_order_state(current, order(OrderStatus.FILLED, "1", "100"))
    assert (filled.status, filled.filled_size) == (OrderStatus.FILLED, D(1))
    assert current.status is OrderStatus.OPEN
