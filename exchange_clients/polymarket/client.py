"""Polymarket's crowd probabilities on crypto prices, polled from its public APIs.

* Gamma ``GET /markets?active=true&closed=false&order=volume24hr&ascending=false&limit=N``:
  the open markets, each with ``question``, ``outcomes`` / ``outcomePrices`` /
  ``clobTokenIds`` (JSON-encoded strings inside the JSON), ``volume24hr`` and
  ``liquidityNum`` (numbers), ``endDate``.
* CLOB ``GET /midpoint?token_id=T`` -> ``{"mid": "0.55"}``: the live midpoint of one
  outcome's book (Gamma's ``outcomePrices`` lag; the midpoint is what trades now).

Only markets about an asset's direction are kept: an "Up or Down" market (outcomes Up/Down),
or a YES/NO market whose question asks whether the price goes above/higher/up (YES bullish) or
below/lower/down (YES bearish). Markets already past their end are skipped. Numbers are parsed
straight into ``Decimal``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from core.errors import ExchangeError
from exchange_clients.native.wire import to_decimal
from networking.http import HttpRequest, RestTransport
from networking.json_codec import loads
from networking.rate_limit import TokenBucket

VENUE = "polymarket"
ASSET_NAMES: Mapping[str, tuple[str, ...]] = {
    "BTC": ("bitcoin", "btc"),
    "ETH": ("ethereum", "eth", "ether"),
    "SOL": ("solana", "sol"),
}
_BULLISH = re.compile(r"\b(above|higher|up|over|reach|hit)\b", re.IGNORECASE)
_BEARISH = re.compile(r"\b(below|lower|down|under|dip|fall)\b", re.IGNORECASE)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PolymarketMarket:
    """One directional market about ``asset``; ``yes_token`` is the bullish outcome's
    token when ``yes_is_up``, else the bearish one's."""

    market_id: str
    asset: str
    question: str
    yes_token: str
    no_token: str
    yes_is_up: bool
    yes_price: Decimal
    no_price: Decimal
    volume_24h: Decimal
    liquidity: Decimal
    end_time: datetime | None

    @property
    def up_probability(self) -> Decimal:
        return self.yes_price if self.yes_is_up else self.no_price


def asset_of(question: str, assets: Sequence[str]) -> str | None:
    """The one asset of ``assets`` the question names (None for none or several)."""
    words = set(re.findall(r"[a-z0-9]+", question.lower()))
    found = [a for a in assets if words & set(ASSET_NAMES.get(a, (a.lower(),)))]
    return found[0] if len(found) == 1 else None


def parse_market(
    raw: Mapping[str, Any], assets: Sequence[str], now: datetime
) -> PolymarketMarket | None:
    """A Gamma market as a :class:`PolymarketMarket`, or None when it is not a directional
    market about one of ``assets`` (or is closed, or ended)."""
    if raw.get("closed") or raw.get("active") is False:
        return None
    question = str(raw.get("question", ""))
    asset = asset_of(question, assets)
    if asset is None:
        return None
    try:
        outcomes = [str(o) for o in _json_list(raw.get("outcomes"))]
        prices = [to_decimal(p) for p in _json_list(raw.get("outcomePrices"))]
        tokens = [str(t) for t in _json_list(raw.get("clobTokenIds"))]
    except (ValueError, TypeError):
        return None
    if len(outcomes) != 2 or len(prices) != 2 or len(tokens) != 2:
        return None
    first = outcomes[0].lower()
    if first in ("up", "down"):
        yes_is_up = first == "up"
    elif first == "yes":
        bullish, bearish = bool(_BULLISH.search(question)), bool(_BEARISH.search(question))
        if bullish == bearish:
            return None
        yes_is_up = bullish
    else:
        return None
    end = _time(raw.get("endDate"))
    if end is not None and end <= now:
        return None
    return PolymarketMarket(
        market_id=str(raw.get("id", "")),
        asset=asset,
        question=question,
        yes_token=tokens[0],
        no_token=tokens[1],
        yes_is_up=yes_is_up,
        yes_price=prices[0],
        no_price=prices[1],
        volume_24h=_number(raw.get("volume24hr")),
        liquidity=_number(raw.get("liquidityNum", raw.get("liquidity"))),
        end_time=end,
    )


def _json_list(value: object) -> list[Any]:
    decoded = loads(value) if isinstance(value, str) else value
    if not isinstance(decoded, list):
        raise ValueError(f"expected a JSON list, got {value!r:.60}")
    return decoded


def _number(value: object) -> Decimal:
    if value is None or value == "":
        return _ZERO
    return to_decimal(value)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class PolymarketClient:
    """Polls Gamma for the directional markets of a few assets and the CLOB for their prices."""

    def __init__(self, gamma_url: str, clob_url: str, *, market_limit: int = 100) -> None:
        self._gamma = RestTransport(VENUE, gamma_url, limiter=TokenBucket.per_minute(300))
        self._clob = RestTransport(VENUE, clob_url, limiter=TokenBucket.per_minute(600))
        self._limit = market_limit

    async def open(self) -> None:
        await self._gamma.open()
        await self._clob.open()

    async def close(self) -> None:
        await self._gamma.close()
        await self._clob.close()

    async def _get(self, transport: RestTransport, path: str, query: Mapping[str, str]) -> Any:
        response = await transport.send(
            HttpRequest("GET", f"{path}?{urlencode(query)}"), idempotent=True
        )
        if response.status != 200:
            raise ExchangeError(f"GET {path}: HTTP {response.status}", venue=VENUE)
        return response.json()

    async def markets(self, assets: Sequence[str], now: datetime) -> list[PolymarketMarket]:
        """The open directional markets about ``assets``, by 24 h volume, highest first."""
        raw = await self._get(
            self._gamma,
            "/markets",
            {
                "active": "true",
                "closed": "false",
                "order": "volume24hr",
                "ascending": "false",
                "limit": str(self._limit),
            },
        )
        if not isinstance(raw, list):
            raise ExchangeError(f"GET /markets: expected a list, got {raw!r:.80}", venue=VENUE)
        found = [parse_market(item, assets, now) for item in raw if isinstance(item, dict)]
        return [market for market in found if market is not None]

    async def midpoint(self, token_id: str) -> Decimal:
        """The midpoint of one outcome token's book (a probability, 0..1)."""
        raw = await self._get(self._clob, "/midpoint", {"token_id": token_id})
        if not isinstance(raw, dict) or "mid" not in raw:
            raise ExchangeError(f"GET /midpoint: unexpected answer {raw!r:.80}", venue=VENUE)
        return to_decimal(raw["mid"])

    async def snapshot(self, assets: Sequence[str], now: datetime) -> list[PolymarketMarket]:
        """The directional markets of ``assets`` with live CLOB midpoints for YES and NO
        (asked concurrently, the CLOB's rate limit pacing them)."""
        markets = await self.markets(assets, now)
        mids = await asyncio.gather(
            *(self.midpoint(token) for m in markets for token in (m.yes_token, m.no_token))
        )
        return [
            replace(market, yes_price=mids[2 * index], no_price=mids[2 * index + 1])
            for index, market in enumerate(markets)
        ]
