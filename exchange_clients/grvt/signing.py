"""GRVT's order signature: EIP-712 typed data over the ``Order`` struct, signed with the key
registered for the account's API key.

GRVT (API docs "Signing"; grvt-pysdk ``grvt_raw_signing``) signs:

* in the domain ``{name: "GRVT Exchange", version: "0", chainId}`` - no ``verifyingContract``,
  so the domain type is the three-field ``EIP712Domain(string name,string version,uint256
  chainId)``; the chain id depends on the environment (prod 325, testnet 326, staging and dev
  327);
* the struct ``Order(uint64 subAccountID,bool isMarket,uint8 timeInForce,bool postOnly,bool
  reduceOnly,OrderLeg[] legs,uint32 nonce,int64 expiration)`` with ``OrderLeg(uint256 assetID,
  uint64 contractSize,uint64 limitPrice,bool isBuyingContract)``;
* ``timeInForce`` as GRVT's enum (GOOD_TILL_TIME 1, ALL_OR_NONE 2, IMMEDIATE_OR_CANCEL 3,
  FILL_OR_KILL 4); ``assetID`` is the instrument's ``instrument_hash``; ``contractSize`` the size
  times ``10**base_decimals`` of the instrument; ``limitPrice`` the price times ``10**9`` (0 for
  a market order); ``expiration`` is in unix nanoseconds (at most 30 days ahead) and ``nonce``
  a uint32 that makes two otherwise equal orders different.

The digest is built from precomputed type hashes and signed with libsecp256k1 (see
:mod:`exchange_clients.evm_signing`); tests pin it against eth-account's full typed-data
encoding and against signatures the official SDK produced for the same inputs.

Sizes and prices are scaled exactly: a value with more decimals than the instrument carries is
refused (:class:`SigningError`) rather than truncated, since the venue checks the signature
against the decimal strings sent next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from exchange_clients.evm_signing import EvmKey, typed_data_digest

DOMAIN_NAME = "GRVT Exchange"
DOMAIN_VERSION = "0"
CHAIN_IDS: dict[str, int] = {"prod": 325, "testnet": 326, "staging": 327, "dev": 327}
"""EIP-712 chain id per GRVT environment."""
PRICE_DECIMALS = 9
MAX_EXPIRATION_NS = 30 * 24 * 3600 * 1_000_000_000
"""GRVT refuses a signature expiring more than 30 days ahead."""
U32 = 2**32
U64 = 2**64


class TimeInForceCode(IntEnum):
    """GRVT's signed time-in-force enum (the wire names are the member names)."""

    GOOD_TILL_TIME = 1
    ALL_OR_NONE = 2
    IMMEDIATE_OR_CANCEL = 3
    FILL_OR_KILL = 4


class SigningError(ValueError):
    """An order value that cannot be signed exactly (decimals, range, environment)."""


ORDER_TYPES: dict[str, list[dict[str, str]]] = {
    "Order": [
        {"name": "subAccountID", "type": "uint64"},
        {"name": "isMarket", "type": "bool"},
        {"name": "timeInForce", "type": "uint8"},
        {"name": "postOnly", "type": "bool"},
        {"name": "reduceOnly", "type": "bool"},
        {"name": "legs", "type": "OrderLeg[]"},
        {"name": "nonce", "type": "uint32"},
        {"name": "expiration", "type": "int64"},
    ],
    "OrderLeg": [
        {"name": "assetID", "type": "uint256"},
        {"name": "contractSize", "type": "uint64"},
        {"name": "limitPrice", "type": "uint64"},
        {"name": "isBuyingContract", "type": "bool"},
    ],
}
"""The typed-data types, for eth-account's reference encoding (tests, the fake's recovery)."""

_LEG_TYPE = "OrderLeg(uint256 assetID,uint64 contractSize,uint64 limitPrice,bool isBuyingContract)"
_ORDER_TYPE = (
    "Order(uint64 subAccountID,bool isMarket,uint8 timeInForce,bool postOnly,bool reduceOnly,"
    "OrderLeg[] legs,uint32 nonce,int64 expiration)" + _LEG_TYPE
)
_ORDER_TYPE_HASH = bytes(keccak(_ORDER_TYPE.encode()))
_LEG_TYPE_HASH = bytes(keccak(_LEG_TYPE.encode()))
_DOMAIN_TYPE_HASH = bytes(keccak(b"EIP712Domain(string name,string version,uint256 chainId)"))


def chain_id(environment: str) -> int:
    try:
        return CHAIN_IDS[environment]
    except KeyError:
        raise SigningError(
            f"unknown GRVT environment {environment!r}; expected one of {', '.join(CHAIN_IDS)}"
        ) from None


def domain(environment: str) -> dict[str, str | int]:
    """The EIP-712 domain of ``environment`` (no verifyingContract)."""
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id(environment)}


def domain_separator(environment: str) -> bytes:
    return bytes(
        keccak(
            _DOMAIN_TYPE_HASH
            + bytes(keccak(DOMAIN_NAME.encode()))
            + bytes(keccak(DOMAIN_VERSION.encode()))
            + chain_id(environment).to_bytes(32, "big")
        )
    )


def scale(value: Decimal, decimals: int, what: str) -> int:
    """``value * 10**decimals`` as an integer; refuses a value needing more decimals."""
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise SigningError(f"{what} {value:f} does not fit {decimals} decimals")
    number = int(scaled)
    if number >= U64:
        raise SigningError(f"{what} {value:f} is too large to sign")
    return number


@dataclass(frozen=True, slots=True)
class SignedLeg:
    """One leg as it is signed (integers) - built by :func:`order_leg`."""

    asset_id: int
    contract_size: int
    limit_price: int
    is_buying: bool


def order_leg(
    instrument_hash: str,
    base_decimals: int,
    size: Decimal,
    limit_price: Decimal,
    *,
    is_buying: bool,
) -> SignedLeg:
    """A leg from the instrument's hash and decimals and the order's decimal size and price."""
    return SignedLeg(
        asset_id=int(instrument_hash, 16),
        contract_size=scale(size, base_decimals, "size"),
        limit_price=scale(limit_price, PRICE_DECIMALS, "price"),
        is_buying=is_buying,
    )


@dataclass(frozen=True, slots=True)
class OrderToSign:
    """Every signed field of an order."""

    sub_account_id: int
    is_market: bool
    time_in_force: TimeInForceCode
    post_only: bool
    reduce_only: bool
    legs: tuple[SignedLeg, ...]
    nonce: int
    expiration_ns: int

    def __post_init__(self) -> None:
        if not 0 <= self.sub_account_id < U64:
            raise SigningError(f"sub account id {self.sub_account_id} is not a uint64")
        if not 0 <= self.nonce < U32:
            raise SigningError(f"nonce {self.nonce} is not a uint32")
        if not 0 < self.expiration_ns < 2**63:
            raise SigningError(f"expiration {self.expiration_ns} is not a positive int64")

    def message(self) -> dict[str, object]:
        """The typed-data message (field names as signed)."""
        return {
            "subAccountID": self.sub_account_id,
            "isMarket": self.is_market,
            "timeInForce": int(self.time_in_force),
            "postOnly": self.post_only,
            "reduceOnly": self.reduce_only,
            "legs": [
                {
                    "assetID": leg.asset_id,
                    "contractSize": leg.contract_size,
                    "limitPrice": leg.limit_price,
                    "isBuyingContract": leg.is_buying,
                }
                for leg in self.legs
            ],
            "nonce": self.nonce,
            "expiration": self.expiration_ns,
        }


def _word(value: int | bool) -> bytes:
    return int(value).to_bytes(32, "big")


def _leg_hash(leg: SignedLeg) -> bytes:
    return bytes(
        keccak(
            _LEG_TYPE_HASH
            + _word(leg.asset_id)
            + _word(leg.contract_size)
            + _word(leg.limit_price)
            + _word(leg.is_buying)
        )
    )


def struct_hash(order: OrderToSign) -> bytes:
    legs = bytes(keccak(b"".join(_leg_hash(leg) for leg in order.legs)))
    return bytes(
        keccak(
            _ORDER_TYPE_HASH
            + _word(order.sub_account_id)
            + _word(order.is_market)
            + _word(order.time_in_force)
            + _word(order.post_only)
            + _word(order.reduce_only)
            + legs
            + _word(order.nonce)
            + _word(order.expiration_ns)
        )
    )


def order_digest(order: OrderToSign, environment: str) -> bytes:
    """What the signature signs."""
    return typed_data_digest(domain_separator(environment), struct_hash(order))


def reference_digest(order: OrderToSign, environment: str) -> bytes:
    """The same digest through eth-account's full EIP-712 encoder (tests and the fake)."""
    signable = encode_typed_data(domain(environment), ORDER_TYPES, order.message())
    return bytes(keccak(b"\x19" + signable.version + signable.header + signable.body))


@dataclass(frozen=True, slots=True)
class OrderSignature:
    """The ``signature`` object of an order, as GRVT's API takes it."""

    signer: str
    r: str
    s: str
    v: int
    expiration: str
    nonce: int

    def wire(self) -> dict[str, str | int]:
        return {
            "signer": self.signer,
            "r": self.r,
            "s": self.s,
            "v": self.v,
            "expiration": self.expiration,
            "nonce": self.nonce,
        }


class GrvtSigner:
    """Signs orders for one environment with the API key's private key."""

    def __init__(self, private_key: str, environment: str) -> None:
        chain_id(environment)  # refuses an unknown environment at construction
        self.environment = environment
        self._separator = domain_separator(environment)
        try:
            self._key = EvmKey(private_key)
        except (ValueError, TypeError):
            raise SigningError("private_key is not a 32-byte hex secp256k1 key") from None

    def __repr__(self) -> str:
        return f"GrvtSigner({self.address}, {self.environment})"

    @property
    def address(self) -> str:
        return self._key.address

    def sign(self, order: OrderToSign) -> OrderSignature:
        digest = typed_data_digest(self._separator, struct_hash(order))
        r, s, v = self._key.sign_digest(digest)
        return OrderSignature(
            signer=self.address,
            r=f"0x{r:064x}",
            s=f"0x{s:064x}",
            v=v,
            expiration=str(order.expiration_ns),
            nonce=order.nonce,
        )


def recover_signer(order: OrderToSign, environment: str, r: str, s: str, v: int) -> str:
    """The address that signed ``order`` (what the fake checks against the API key's)."""
    message = encode_typed_data(domain(environment), ORDER_TYPES, order.message())
    return str(Account.recover_message(message, vrs=(v, int(r, 16), int(s, 16))))
