"""Hyperliquid's L1-action signing: msgpack + nonce + vault -> keccak -> EIP-712 "phantom agent".

Every ``/exchange`` request (order, cancel, updateLeverage ...) carries an ``action`` and a
signature over it. The action is msgpack-encoded with its keys in the order Hyperliquid's
reference SDK builds them (the bytes are what is hashed), followed by the nonce (8 bytes, big
endian), a vault marker (``00``, or ``01`` + the 20-byte vault address) and, when present, an
expiry marker (``00`` + 8 bytes). The keccak-256 of that is the ``connectionId`` of an
``Agent`` struct signed with EIP-712 in the domain "Exchange", chainId 1337; ``source`` is
"a" on mainnet and "b" on testnet. API-wallet (agent) keys sign the same way as the owner.

Prices and sizes travel as decimal strings: at most 8 decimals, no exponent, no trailing zeros.
Everything here is written against Decimal: a float never decides what gets signed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgpack
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from exchange_clients.evm_signing import EvmKey, domain_separator, typed_data_digest

Tif = Literal["Gtc", "Alo", "Ioc"]
Tpsl = Literal["tp", "sl"]
MAX_WIRE_DECIMALS = 8
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class SigningError(ValueError):
    """A value that cannot be put on the wire exactly."""


def decimal_to_wire(value: Decimal) -> str:
    """``value`` as Hyperliquid's wire string: exact, <= 8 decimals, normalised, no exponent."""
    if not value.is_finite():
        raise SigningError(f"cannot sign {value}")
    if value != value.quantize(Decimal(1).scaleb(-MAX_WIRE_DECIMALS)):
        raise SigningError(f"{value} has more than {MAX_WIRE_DECIMALS} decimals")
    if value == 0:
        return "0"
    return f"{value.normalize():f}"


def order_wire(
    asset: int,
    is_buy: bool,
    price: Decimal,
    size: Decimal,
    *,
    reduce_only: bool = False,
    tif: Tif = "Gtc",
    cloid: str | None = None,
    trigger: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One order of an ``order`` action (keys in the hashed order: a, b, p, s, r, t, c).

    ``trigger`` (from :func:`trigger_type`) makes it a trigger order; ``price`` is then the
    worst price of the order the trigger sends, and ``tif`` does not apply."""
    wire: dict[str, Any] = {
        "a": asset,
        "b": is_buy,
        "p": decimal_to_wire(price),
        "s": decimal_to_wire(size),
        "r": reduce_only,
        "t": {"trigger": trigger} if trigger is not None else {"limit": {"tif": tif}},
    }
    if cloid is not None:
        wire["c"] = cloid
    return wire


def trigger_type(
    trigger_price: Decimal, tpsl: Tpsl = "sl", *, is_market: bool = True
) -> dict[str, Any]:
    """The ``trigger`` order type (keys in the SDK's order: isMarket, triggerPx, tpsl)."""
    return {"isMarket": is_market, "triggerPx": decimal_to_wire(trigger_price), "tpsl": tpsl}


def order_action(orders: list[dict[str, Any]], grouping: str = "na") -> dict[str, Any]:
    return {"type": "order", "orders": orders, "grouping": grouping}


def action_hash(
    action: dict[str, Any], vault_address: str | None, nonce: int, expires_after: int | None
) -> bytes:
    data = msgpack.packb(action)
    data += nonce.to_bytes(8, "big")
    if vault_address is None:
        data += b"\x00"
    else:
        data += b"\x01" + bytes.fromhex(vault_address.removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return bytes(keccak(data))


def phantom_agent(connection_id: bytes, mainnet: bool) -> dict[str, Any]:
    return {"source": "a" if mainnet else "b", "connectionId": connection_id}


def l1_typed_data(agent: dict[str, Any]) -> dict[str, Any]:
    return {
        "domain": {
            "chainId": 1337,
            "name": "Exchange",
            "verifyingContract": ZERO_ADDRESS,
            "version": "1",
        },
        "types": {
            "Agent": [
                {"name": "source", "type": "string"},
                {"name": "connectionId", "type": "bytes32"},
            ],
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
        },
        "primaryType": "Agent",
        "message": agent,
    }


# The typed data never changes but for ``source`` and ``connectionId``: its digest is built from
# precomputed hashes (exchange_clients/evm_signing.py says why); ``l1_typed_data`` stays the
# reference the tests compare it with.
_AGENT_TYPE_HASH = bytes(keccak(b"Agent(string source,bytes32 connectionId)"))
_DOMAIN_SEPARATOR = domain_separator("Exchange", "1", 1337, ZERO_ADDRESS)
_SOURCE_HASHES = {True: bytes(keccak(b"a")), False: bytes(keccak(b"b"))}


def l1_digest(connection_id: bytes, mainnet: bool) -> bytes:
    """The EIP-712 digest of the phantom agent for ``connection_id`` (what is signed)."""
    struct_hash = keccak(_AGENT_TYPE_HASH + _SOURCE_HASHES[mainnet] + connection_id)
    return typed_data_digest(_DOMAIN_SEPARATOR, bytes(struct_hash))


class L1Signer:
    """One signing key, parsed once (the client keeps one; ``repr`` shows only the address)."""

    def __init__(self, private_key: str) -> None:
        self._key = EvmKey(private_key)
        self.address = self._key.address

    def __repr__(self) -> str:
        return f"L1Signer({self.address})"

    def sign(
        self,
        action: dict[str, Any],
        *,
        nonce: int,
        mainnet: bool,
        vault_address: str | None = None,
        expires_after: int | None = None,
    ) -> dict[str, Any]:
        """The ``signature`` object of an ``/exchange`` request: ``{"r", "s", "v"}``."""
        connection_id = action_hash(action, vault_address, nonce, expires_after)
        r, s, v = self._key.sign_digest(l1_digest(connection_id, mainnet))
        return {"r": hex(r), "s": hex(s), "v": v}


def sign_l1_action(
    private_key: str,
    action: dict[str, Any],
    *,
    nonce: int,
    mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> dict[str, Any]:
    """The ``signature`` object of an ``/exchange`` request: ``{"r", "s", "v"}``."""
    return L1Signer(private_key).sign(
        action,
        nonce=nonce,
        mainnet=mainnet,
        vault_address=vault_address,
        expires_after=expires_after,
    )


def recover_l1_signer(
    action: dict[str, Any],
    signature: dict[str, Any],
    *,
    nonce: int,
    mainnet: bool,
    vault_address: str | None = None,
    expires_after: int | None = None,
) -> str:
    """The address that signed ``action`` (what the venue - and our fake - checks)."""
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    message = encode_typed_data(full_message=l1_typed_data(phantom_agent(connection_id, mainnet)))
    vrs = (signature["v"], int(signature["r"], 16), int(signature["s"], 16))
    return str(Account.recover_message(message, vrs=vrs))
