"""EdgeX's two signatures: HMAC request headers and the EIP-712 order signature (V2 API).

What the official Python SDK (``edgex-python-sdk`` 2.x, the V2 "contract" API; the StarkEx
signatures of V1 are retired there) does, and the venue verifies:

* **Request headers** (``internal/auth.py``): ``X-edgeX-Api-Key``, ``-Passphrase``,
  ``-Timestamp`` (epoch ms) and ``-Signature`` = hex HMAC-SHA256 over
  ``timestamp + METHOD + path + body``, keyed by the *base64 text of the API secret* (the secret
  is base64-encoded before use, not decoded). ``body`` is the sorted ``k=v`` pairs of the query
  joined by ``&`` for a GET, else the JSON body flattened the same way (keys sorted, lists joined
  by ``&``, booleans ``true``/``false``, null empty).
* **Orders** (``order/client.py``): EIP-712 typed data ``LimitOrderParams`` (with a nested
  ``OrderBase``) in the domain ``EdgeX`` / ``1`` / the metadata's ``nativeChainId`` /
  ``contractAddress``, signed by the trading (L2) key; the signature travels as 130 hex
  characters (r || s || v, v in {27, 28}) in ``l2Signature``.

  - ``amountSynthetic`` = size x the contract's resolution, ``amountCollateral`` = value x the
    quote coin's resolution, both truncated to integers; value = signed price x size.
  - ``l2LimitFee`` = value x max(taker, maker default fee rate) **rounded up to a whole unit**
    of collateral (``to_integral_value(ROUND_CEILING)``), ``amountFee`` = that x resolution.
  - ``nonce`` = the first 8 hex digits of SHA-256(clientOrderId) as an integer.
  - ``expireTime`` (ms) is ``l2ExpireTime`` - 8 days; the signed ``expirationTimestamp`` is
    ``expireTime`` in whole seconds (floor). The SDK's default: ``l2ExpireTime`` = now + 30 days.

The digest is built from precomputed type hashes (only the message fields change per order) and
signed with libsecp256k1 (:class:`exchange_clients.evm_signing.EvmKey`); the tests pin it to
eth-account's encoding of the same typed data and to vectors computed with the SDK itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from eth_utils.crypto import keccak

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.evm_signing import EvmKey, domain_separator, typed_data_digest

HEADER_PREFIX = "X-edgeX-"
DOMAIN_NAME = "EdgeX"
DOMAIN_VERSION = "1"
EXPIRY_WINDOW_MS = 30 * 24 * 3600 * 1000
"""How long a signed order stays valid (the SDK's default ``l2ExpireTime`` window)."""
L1_OFFSET_MS = 8 * 24 * 3600 * 1000
"""``expireTime`` = ``l2ExpireTime`` minus this (the SDK's ``l1_offset``)."""

ORDER_BASE = "OrderBase(uint256 nonce,address signer,uint64 accountId,uint256 expirationTimestamp)"
LIMIT_ORDER_PARAMS = (
    "LimitOrderParams(OrderBase base,int256 amountSynthetic,int256 amountCollateral,"
    "uint256 amountFee,uint64 assetIdSynthetic,uint64 assetIdCollateral,bool isBuyingSynthetic,"
    "bytes32 parentOrderHash,uint256 subOrderIndex)"
)
_ORDER_BASE_HASH = bytes(keccak(ORDER_BASE.encode()))
_LIMIT_ORDER_HASH = bytes(keccak((LIMIT_ORDER_PARAMS + ORDER_BASE).encode()))
_ZERO_HASH = bytes(32)

WireScalar = str | int | bool | Decimal | None
WireValue = WireScalar | list[WireScalar] | Mapping[str, WireScalar]


# --- request headers ---------------------------------------------------------------------------


def wire_text(value: object) -> str:
    """One value as it enters the signed string (and the JSON body, for strings)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return "&".join(wire_text(item) for item in value)
    if isinstance(value, Mapping):
        return "&".join(f"{key}={wire_text(value[key])}" for key in sorted(value))
    return str(value)


def query_text(params: Mapping[str, object]) -> str:
    """The signed form of a GET's query: ``k=v`` sorted by key, joined by ``&``."""
    return "&".join(f"{key}={wire_text(params[key])}" for key in sorted(params))


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """Hex HMAC-SHA256 of ``timestamp + method + path + body`` under base64(secret)."""
    key = base64.b64encode(secret.encode())
    return hmac.new(key, f"{timestamp}{method}{path}{body}".encode(), hashlib.sha256).hexdigest()


class HmacSigner:
    """The API key's four headers for one request; ``repr`` shows no part of the key."""

    def __init__(self, api_key: Secret, api_secret: Secret, passphrase: Secret) -> None:
        self._api_key = api_key
        self._secret = api_secret
        self._passphrase = passphrase

    def __repr__(self) -> str:
        return "HmacSigner(***)"

    def headers(self, method: str, path: str, body: str, timestamp_ms: int) -> dict[str, str]:
        stamp = str(timestamp_ms)
        return {
            f"{HEADER_PREFIX}Api-Key": self._api_key.reveal(),
            f"{HEADER_PREFIX}Passphrase": self._passphrase.reveal(),
            f"{HEADER_PREFIX}Signature": hmac_signature(
                self._secret.reveal(), stamp, method, path, body
            ),
            f"{HEADER_PREFIX}Timestamp": stamp,
        }


# --- orders ------------------------------------------------------------------------------------


def order_nonce(client_order_id: str) -> int:
    """``l2Nonce``: the first 32 bits of SHA-256 of the client order id."""
    return int(hashlib.sha256(client_order_id.encode()).hexdigest()[:8], 16)


def parse_resolution(text: str) -> Decimal:
    """A metadata ``resolution``: decimal, or hex with ``0x``."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("resolution is empty")
    return Decimal(int(cleaned, 16)) if cleaned.startswith("0x") else Decimal(cleaned)


def limit_fee(value: Decimal, fee_rate: Decimal) -> Decimal:
    """``l2LimitFee``: the most the order may pay, rounded up to a whole collateral unit."""
    return (value * fee_rate).to_integral_value(rounding=ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    """What one order signs, and the decimal fields the body carries beside the signature."""

    nonce: int
    account_id: int
    expire_time_ms: int
    """``expireTime``; ``l2ExpireTime`` is this plus :data:`L1_OFFSET_MS`."""
    synthetic: int
    collateral: int
    fee: int
    synthetic_asset: int
    collateral_asset: int
    is_buy: bool
    value: Decimal
    limit_fee: Decimal

    @property
    def l2_expire_time_ms(self) -> int:
        return self.expire_time_ms + L1_OFFSET_MS

    @property
    def expiration_seconds(self) -> int:
        return self.expire_time_ms // 1000


@dataclass(frozen=True, slots=True)
class OrderDomain:
    """The EIP-712 domain of one EdgeX deployment (from ``getMetaData``'s ``global``)."""

    chain_id: int
    verifying_contract: str

    def separator(self) -> bytes:
        return domain_separator(DOMAIN_NAME, DOMAIN_VERSION, self.chain_id, self.verifying_contract)


def order_amounts(
    *,
    client_order_id: str,
    account_id: int,
    size: Decimal,
    price: Decimal,
    is_buy: bool,
    fee_rate: Decimal,
    synthetic_resolution: Decimal,
    collateral_resolution: Decimal,
    synthetic_asset: int,
    collateral_asset: int,
    expire_time_ms: int,
) -> OrderAmounts:
    """The signed integers of one order, computed exactly as the SDK does."""
    value = price * size
    fee = limit_fee(value, fee_rate)
    return OrderAmounts(
        nonce=order_nonce(client_order_id),
        account_id=account_id,
        expire_time_ms=expire_time_ms,
        synthetic=int(size * synthetic_resolution),
        collateral=int(value * collateral_resolution),
        fee=int(fee * collateral_resolution),
        synthetic_asset=synthetic_asset,
        collateral_asset=collateral_asset,
        is_buy=is_buy,
        value=value,
        limit_fee=fee,
    )


def _word(value: int) -> bytes:
    """A uint/int256 word (two's complement for a negative int256)."""
    return (value % 2**256).to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes.fromhex(address.removeprefix("0x")).rjust(32, b"\x00")


def order_struct_hash(amounts: OrderAmounts, signer: str) -> bytes:
    """``hashStruct(LimitOrderParams)`` with its nested ``OrderBase``."""
    base = bytes(
        keccak(
            _ORDER_BASE_HASH
            + _word(amounts.nonce)
            + _address_word(signer)
            + _word(amounts.account_id)
            + _word(amounts.expiration_seconds)
        )
    )
    return bytes(
        keccak(
            _LIMIT_ORDER_HASH
            + base
            + _word(amounts.synthetic)
            + _word(amounts.collateral)
            + _word(amounts.fee)
            + _word(amounts.synthetic_asset)
            + _word(amounts.collateral_asset)
            + _word(1 if amounts.is_buy else 0)
            + _ZERO_HASH
            + _word(0)
        )
    )


def order_digest(domain: OrderDomain, amounts: OrderAmounts, signer: str) -> bytes:
    return typed_data_digest(domain.separator(), order_struct_hash(amounts, signer))


class OrderSigner:
    """The trading (L2) key: signs orders for one account."""

    def __init__(self, private_key: Secret, *, venue: str = "edgex") -> None:
        text = private_key.reveal().strip()
        raw = text.removeprefix("0x")
        if len(raw) != 64 or any(c not in "0123456789abcdefABCDEF" for c in raw):
            raise AuthenticationFailed(
                "trading_private_key must be 64 hex characters (a secp256k1 key)", venue=venue
            )
        self._key = EvmKey("0x" + raw)
        self._separators: dict[OrderDomain, bytes] = {}

    def __repr__(self) -> str:
        return f"OrderSigner({self.address})"

    @property
    def address(self) -> str:
        return self._key.address

    def sign(self, domain: OrderDomain, amounts: OrderAmounts) -> str:
        """``l2Signature``: 130 hex characters, r || s || v."""
        separator = self._separators.get(domain)
        if separator is None:
            separator = self._separators[domain] = domain.separator()
        digest = typed_data_digest(separator, order_struct_hash(amounts, self.address))
        return self._key.sign_digest_bytes(digest).hex()
