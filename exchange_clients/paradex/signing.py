"""Paradex's signatures: Stark key derivation, account address, and the Starknet typed data
it signs (onboarding, ``POST /v1/auth``, orders), byte-for-byte as the official SDK does.

Paradex (docs "Authentication", paradex-py ``account/`` and ``message/``):

* **Stark key**: the Ethereum key signs the EIP-712 message ``Constant{action: "STARK Key"}``
  in the domain ``{name: "Paradex", version: "1", chainId: <L1 chain id>}`` (1 on mainnet,
  11155111 on the Sepolia testnet, read from ``/v1/system/config`` ``l1_chain_id``); the
  signature's ``r`` is ground into a Stark private key (SHA-256 of ``r || index`` until below
  the largest multiple of the curve order, then reduced mod the order).
* **Account address**: the Starknet contract address of the account proxy deployed with
  ``initialize(public_key, 0)``: ``pedersen chain("STARKNET_CONTRACT_ADDRESS", 0, salt =
  public key, proxy class hash, chain(calldata)) mod 2**251 - 256``.
* **Typed data** (Starknet revision 0: ``StarkNetDomain{name, chainId, version}``, every field a
  ``felt``): ``hash = chain("StarkNet Message", domain hash, account, struct hash)`` with
  ``chain`` Pedersen's hash chain and type hashes ``starknet_keccak("Order(timestamp:felt,..)")``.
  The chain id is the Starknet chain name as a short string (``PRIVATE_SN_POTC_SEPOLIA`` on
  testnet, ``PRIVATE_SN_PARACLEAR_MAINNET`` on mainnet).
* **Orders**: ``Order{timestamp (ms), market, side (1 buy, 2 sell), orderType, size, price}``
  with size and price scaled by 10**8 and truncated (``int(value.scaleb(8))``); a market
  order (and a stop-market, which has no limit price) signs price 0.

Signatures travel as ``["<r decimal>","<s decimal>"]``. The constant parts of every hash (the
type hash, the domain and account prefix of the message chain) are computed once per signer,
so an order costs 9 Pedersen hashes and one signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from eth_utils.crypto import keccak

from exchange_clients.paradex.starkcurve import (
    EC_ORDER,
    pedersen,
    public_key,
    sign,
    verify,
)

MASK_250 = 2**250 - 1
ADDRESS_BOUND = 2**251 - 256
CHAIN_SCALE = 8
"""Paradex signs sizes and prices as integers with 8 decimals."""

MAINNET_STARKNET_CHAIN = "PRIVATE_SN_PARACLEAR_MAINNET"
TESTNET_STARKNET_CHAIN = "PRIVATE_SN_POTC_SEPOLIA"
MAINNET_L1_CHAIN_ID = 1
TESTNET_L1_CHAIN_ID = 11155111


def short_string(text: str) -> int:
    """A Cairo short string (ASCII, at most 31 characters) as a felt."""
    if len(text) > 31 or not text.isascii():
        raise ValueError(f"not a Cairo short string: {text!r}")
    return int.from_bytes(text.encode(), "big")


def felt(value: int | str) -> int:
    """A typed-data ``felt`` value as starknet.py reads it: ints as they are, decimal and
    ``0x`` strings as numbers, any other string as a short string."""
    if isinstance(value, int):
        return value
    if value.isdigit():
        return int(value)
    if value.startswith("0x"):
        return int(value, 16)
    return short_string(value)


def starknet_keccak(data: bytes) -> int:
    """Keccak-256 truncated to 250 bits (type hashes and selectors)."""
    return int.from_bytes(keccak(data), "big") & MASK_250


def hash_chain(elements: Sequence[int]) -> int:
    """``h(h(h(0, e0), e1) .., len)``: Starknet's ``compute_hash_on_elements``."""
    acc = 0
    for element in elements:
        acc = pedersen(acc, element)
    return pedersen(acc, len(elements))


def type_hash(name: str, fields: Iterable[str]) -> int:
    return starknet_keccak(f"{name}({','.join(f'{f}:felt' for f in fields)})".encode())


DOMAIN_TYPE_HASH = type_hash("StarkNetDomain", ("name", "chainId", "version"))
ORDER_FIELDS = ("timestamp", "market", "side", "orderType", "size", "price")
ORDER_TYPE_HASH = type_hash("Order", ORDER_FIELDS)
AUTH_FIELDS = ("method", "path", "body", "timestamp", "expiration")
AUTH_TYPE_HASH = type_hash("Request", AUTH_FIELDS)
ONBOARDING_TYPE_HASH = type_hash("Constant", ("action",))
STARKNET_MESSAGE = short_string("StarkNet Message")
ORDER_PREFIX = pedersen(0, ORDER_TYPE_HASH)
"""The struct hash chain's first link, the same for every order."""

SIDE_WIRE = {"buy": 1, "sell": 2}


def domain_hash(starknet_chain: str) -> int:
    return hash_chain([DOMAIN_TYPE_HASH, short_string("Paradex"), short_string(starknet_chain), 1])


def struct_hash(type_hash_value: int, values: Sequence[int]) -> int:
    return hash_chain([type_hash_value, *values])


def message_hash(starknet_chain: str, account: int, struct: int) -> int:
    """The hash a Starknet account signs for a typed-data struct."""
    return hash_chain([STARKNET_MESSAGE, domain_hash(starknet_chain), account, struct])


def chain_amount(value: Decimal) -> int:
    """A size or price as Paradex signs it: ``value * 10**8``, truncated toward zero."""
    return int(value.scaleb(CHAIN_SCALE))


@dataclass(frozen=True)
class OrderMessage:
    """What an order signature covers (sizes and prices in the venue's units)."""

    timestamp_ms: int
    market: str
    side: str  # "buy" | "sell"
    order_type: str  # "LIMIT" | "MARKET" | "STOP_MARKET" ...
    size: Decimal
    price: Decimal | None  # None: signs 0 (market and stop-market orders)

    def felts(self) -> list[int]:
        return [
            self.timestamp_ms,
            short_string(self.market),
            SIDE_WIRE[self.side],
            short_string(self.order_type),
            chain_amount(self.size),
            0 if self.price is None else chain_amount(self.price),
        ]


def order_struct_hash(order: OrderMessage) -> int:
    return struct_hash(ORDER_TYPE_HASH, order.felts())


def auth_struct_hash(timestamp: int, expiration: int) -> int:
    values = [short_string("POST"), short_string("/v1/auth"), 0, timestamp, expiration]
    return struct_hash(AUTH_TYPE_HASH, values)


def onboarding_struct_hash() -> int:
    return struct_hash(ONBOARDING_TYPE_HASH, [short_string("Onboarding")])


def flatten(signature: tuple[int, int]) -> str:
    """The ``PARADEX-STARKNET-SIGNATURE`` / order ``signature`` text: ``["r","s"]``."""
    return f'["{signature[0]}","{signature[1]}"]'


def unflatten(text: str) -> tuple[int, int]:
    """``["r","s"]`` back to integers; ``ValueError`` for anything else."""
    body = text.strip()
    if not (body.startswith('["') and body.endswith('"]')):
        raise ValueError('signature is not of the form ["r","s"]')
    parts = body[2:-2].split('","')
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError('signature is not of the form ["r","s"]')
    return int(parts[0]), int(parts[1])


# --- keys and addresses ----------------------------------------------------------------------


def grind_key(seed: int, limit: int = EC_ORDER) -> int:
    """StarkWare's key grinding: the first ``sha256(seed || index)`` below the largest multiple
    of ``limit`` under 2**256, reduced mod ``limit``."""
    ceiling = 2**256 - (2**256 % limit)

    def padded(x: int) -> str:
        text = format(x, "x")
        return text if len(text) % 2 == 0 else "0" + text

    index = 0
    while True:
        digest = hashlib.sha256(bytes.fromhex(padded(seed) + padded(index))).digest()
        key = int.from_bytes(digest, "big")
        if key < ceiling:
            return key % limit
        index += 1


def stark_key_digest(l1_chain_id: int) -> bytes:
    """The EIP-712 digest of Paradex's ``STARK Key`` message on L1 chain ``l1_chain_id``."""
    domain_type = keccak(b"EIP712Domain(string name,string version,uint256 chainId)")
    domain = keccak(
        domain_type + keccak(b"Paradex") + keccak(b"1") + l1_chain_id.to_bytes(32, "big")
    )
    struct = keccak(keccak(b"Constant(string action)") + keccak(b"STARK Key"))
    return bytes(keccak(b"\x19\x01" + domain + struct))


def derive_stark_private_key(l1_private_key: str, l1_chain_id: int) -> int:
    """The Stark key the SDK derives from an Ethereum key for ``l1_chain_id``."""
    import coincurve  # lazily: only accounts configured with an Ethereum key need it

    key = coincurve.PrivateKey(bytes.fromhex(l1_private_key.removeprefix("0x")))
    signature = key.sign_recoverable(stark_key_digest(l1_chain_id), hasher=None)
    return grind_key(int.from_bytes(signature[:32], "big"))


def account_address(public: int, account_class_hash: int, proxy_class_hash: int) -> int:
    """The Paradex account contract address of a Stark public key (the onboarding address)."""
    calldata = [account_class_hash, starknet_keccak(b"initialize"), 2, public, 0]
    elements = [
        short_string("STARKNET_CONTRACT_ADDRESS"),
        0,
        public,
        proxy_class_hash,
        hash_chain(calldata),
    ]
    return hash_chain(elements) % ADDRESS_BOUND


# --- the signer -----------------------------------------------------------------------------


class StarkSigner:
    """One Paradex account's Stark key, its address and chain; ``repr`` shows only the address."""

    def __init__(self, private_key: int, address: int, starknet_chain: str) -> None:
        if not 0 < private_key < EC_ORDER:
            raise ValueError("Stark private key out of range")
        self._private_key = private_key
        self.address = address
        self.starknet_chain = starknet_chain
        self.public_key = public_key(private_key)

    def __repr__(self) -> str:
        return f"StarkSigner(address={hex(self.address)})"

    @cached_property
    def _prefix(self) -> int:
        """``h(h(h(0, "StarkNet Message"), domain), account)``: fixed for this signer."""
        acc = pedersen(0, STARKNET_MESSAGE)
        acc = pedersen(acc, domain_hash(self.starknet_chain))
        return pedersen(acc, self.address)

    def message_hash(self, struct: int) -> int:
        return pedersen(pedersen(self._prefix, struct), 4)

    def order_hash(self, order: OrderMessage) -> int:
        acc = ORDER_PREFIX
        felts = order.felts()
        for value in felts:
            acc = pedersen(acc, value)
        return self.message_hash(pedersen(acc, len(felts) + 1))

    def sign_hash(self, msg_hash: int) -> str:
        return flatten(sign(self._private_key, msg_hash))

    def sign_order(self, order: OrderMessage) -> str:
        return self.sign_hash(self.order_hash(order))

    def sign_auth(self, timestamp: int, expiration: int) -> str:
        return self.sign_hash(self.message_hash(auth_struct_hash(timestamp, expiration)))

    def sign_onboarding(self) -> str:
        return self.sign_hash(self.message_hash(onboarding_struct_hash()))


def verify_flat(public: int, msg_hash: int, signature: str) -> bool:
    """Whether ``signature`` (``["r","s"]``) is ``public``'s over ``msg_hash``."""
    try:
        r, s = unflatten(signature)
    except ValueError:
        return False
    return verify(public, msg_hash, r, s)
