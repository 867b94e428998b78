"""Market events and markets as JSON objects, the line format of recordings.

Decimals travel as strings (exact, as venues send them), times as integer microseconds
since the epoch, book levels as ``[["price", "size"], ...]``. The venue is not repeated on
every line: a recording holds one venue, named in its header. Decoding is strict -- a
missing field, a float where a decimal string belongs, ``"NaN"`` -- raises ``ValueError``
so a damaged recording fails loudly at the line that is wrong, not later in a backtest.

Decoding is on a backtest's replay path (a day of L2 is a million price and size strings), and
the strings repeat: a book's prices sit on a tick grid and sizes on a step grid. A checked
string's :class:`~decimal.Decimal` (immutable, so safe to share) is kept and reused; the cache
is bounded, emptied when full.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    Levels,
    MarketEvent,
    TradeEvent,
)
from exchange_clients.market_data.micros import from_micros, to_micros
from exchange_clients.types import FundingRate, Market

JsonObject = dict[str, Any]

DECIMAL_CACHE_SIZE = 1 << 16
"""Distinct decimal strings kept (a day of one symbol's book holds a few thousand)."""
_decimals: dict[str, Decimal] = {}


def encode_event(event: MarketEvent) -> JsonObject:
    if isinstance(event, BookSnapshotEvent):
        return {
            "type": "snapshot",
            "symbol": event.symbol,
            "ts": to_micros(event.ts),
            "sequence": event.sequence,
            "bids": _encode_levels(event.bids),
            "asks": _encode_levels(event.asks),
        }
    if isinstance(event, BookDeltaEvent):
        return {
            "type": "delta",
            "symbol": event.symbol,
            "ts": to_micros(event.ts),
            "first_sequence": event.first_sequence,
            "last_sequence": event.last_sequence,
            "bids": _encode_levels(event.bids),
            "asks": _encode_levels(event.asks),
        }
    if isinstance(event, TradeEvent):
        return {
            "type": "trade",
            "symbol": event.symbol,
            "ts": to_micros(event.ts),
            "price": str(event.price),
            "size": str(event.size),
            "taker_side": event.taker_side,
            "trade_id": event.trade_id,
        }
    rate = event.rate
    return {
        "type": "funding",
        "symbol": rate.symbol,
        "ts": to_micros(event.ts),
        "rate": str(rate.rate),
        "interval_hours": str(rate.interval_hours),
        "next_funding_time": _encode_optional_time(rate.next_funding_time),
        "predicted_rate": _encode_optional_decimal(rate.predicted_rate),
        "mark_price": _encode_optional_decimal(rate.mark_price),
    }


def decode_event(record: Mapping[str, Any], venue: str, shift: int = 0) -> MarketEvent:
    """The event a line holds, its times moved by ``shift`` microseconds.

    The kinds are tried in the order of their frequency in a recording."""
    kind = record.get("type")
    symbol = _text(record, "symbol")
    ts = from_micros(_integer(record, "ts") + shift)
    if kind == "delta":
        return BookDeltaEvent(
            venue=venue,
            symbol=symbol,
            ts=ts,
            bids=_levels(record, "bids"),
            asks=_levels(record, "asks"),
            first_sequence=_integer(record, "first_sequence"),
            last_sequence=_integer(record, "last_sequence"),
        )
    if kind == "trade":
        side = record.get("taker_side")
        if side not in ("buy", "sell"):
            raise ValueError(f"taker_side must be 'buy' or 'sell', found {side!r}")
        return TradeEvent(
            venue=venue,
            symbol=symbol,
            ts=ts,
            price=_decimal(record.get("price"), "price"),
            size=_decimal(record.get("size"), "size"),
            taker_side=side,
            trade_id=_text(record, "trade_id"),
        )
    if kind == "snapshot":
        return BookSnapshotEvent(
            venue=venue,
            symbol=symbol,
            ts=ts,
            bids=_levels(record, "bids"),
            asks=_levels(record, "asks"),
            sequence=_integer(record, "sequence"),
        )
    if kind == "funding":
        next_time = record.get("next_funding_time")
        return FundingEvent(
            FundingRate(
                venue=venue,
                symbol=symbol,
                rate=_decimal(record.get("rate"), "rate"),
                interval_hours=_decimal(record.get("interval_hours"), "interval_hours"),
                next_funding_time=(
                    None
                    if next_time is None
                    else from_micros(_integer(record, "next_funding_time") + shift)
                ),
                predicted_rate=_optional_decimal(record, "predicted_rate"),
                mark_price=_optional_decimal(record, "mark_price"),
                ts=ts,
            )
        )
    raise ValueError(f"unknown event type {kind!r}")


def encode_market(market: Market) -> JsonObject:
    return {
        "contract_id": market.contract_id,
        "tick_size": str(market.tick_size),
        "step_size": str(market.step_size),
        "min_size": str(market.min_size),
        "min_notional": str(market.min_notional),
        "max_leverage": str(market.max_leverage),
        "quantity_multiplier": str(market.quantity_multiplier),
        "quote": market.quote,
    }


def decode_market(symbol: str, record: Mapping[str, Any]) -> Market:
    return Market(
        symbol=symbol,
        contract_id=_text(record, "contract_id"),
        tick_size=_decimal(record.get("tick_size"), "tick_size"),
        step_size=_decimal(record.get("step_size"), "step_size"),
        min_size=_decimal(record.get("min_size"), "min_size"),
        min_notional=_decimal(record.get("min_notional"), "min_notional"),
        max_leverage=_decimal(record.get("max_leverage"), "max_leverage"),
        quantity_multiplier=_decimal(record.get("quantity_multiplier"), "quantity_multiplier"),
        quote=_text(record, "quote"),
    )


def _encode_levels(levels: Levels) -> list[list[str]]:
    return [[str(price), str(size)] for price, size in levels]


def _encode_optional_decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _encode_optional_time(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, found {value!r}")
    return value


def _integer(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer, found {value!r}")
    return value


def _decimal(value: Any, what: str) -> Decimal:
    if value.__class__ is str:
        cached = _decimals.get(value)
        if cached is not None:
            return cached
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a decimal string, found {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal string, found {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, found {value!r}")
    if len(_decimals) >= DECIMAL_CACHE_SIZE:
        _decimals.clear()
    _decimals[value] = number
    return number


def _optional_decimal(record: Mapping[str, Any], key: str) -> Decimal | None:
    value = record.get(key)
    return None if value is None else _decimal(value, key)


def _levels(record: Mapping[str, Any], key: str) -> Levels:
    value = record.get(key)
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list of [price, size] pairs, found {value!r}")
    cached = _decimals
    levels = []
    for level in value:
        if level.__class__ is list and len(level) == 2:
            price, size = level
            try:  # strings seen before (anything else is no key: checked below)
                levels.append((cached[price], cached[size]))
                continue
            except (KeyError, TypeError):
                pass
        if not isinstance(level, list) or len(level) != 2:
            raise ValueError(f"{key} must be a list of [price, size] pairs, found {level!r}")
        levels.append((_decimal(level[0], f"{key} price"), _decimal(level[1], f"{key} size")))
    return tuple(levels)
