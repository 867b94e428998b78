"""The entry signal: how lopsided the top of the book is.

``ratio = sum(bid sizes) / sum(ask sizes)`` over the best ``levels`` levels of each side. Far
more size bidding than offered (above ``buy_ratio``) is read as pressure up: buy; the mirror
(below ``sell_ratio``): sell. A side with no size gives no ratio, hence no signal - an empty
side is a broken or halted book, not a strong one.
"""

from __future__ import annotations

from decimal import Decimal

from exchange_clients.types import BookSnapshot, Side

ZERO = Decimal(0)


def imbalance(book: BookSnapshot, levels: int) -> Decimal | None:
    """Bid size over ask size across the best ``levels`` levels, or None (a side is empty)."""
    bids = sum((size for _, size in book.bids[:levels]), ZERO)
    asks = sum((size for _, size in book.asks[:levels]), ZERO)
    if bids <= 0 or asks <= 0:
        return None
    return bids / asks


def entry_side(ratio: Decimal | None, buy_ratio: Decimal, sell_ratio: Decimal) -> Side | None:
    """``buy`` strictly above ``buy_ratio``, ``sell`` strictly below ``sell_ratio``, else None."""
    if ratio is None:
        return None
    if ratio > buy_ratio:
        return "buy"
    if ratio < sell_ratio:
        return "sell"
    return None
