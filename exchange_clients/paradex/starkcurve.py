"""Stark-curve ECDSA exactly as Paradex's official SDK signs, on compiled curve arithmetic.

The SDK (paradex-py over ``starknet-crypto-py``) signs a message hash with the nonce
``k = RFC 6979(hash, key, extra entropy = seed 32)`` (HMAC-SHA256 DRBG, the hash padded one
nibble when it is one nibble short, as elliptic.js does). The compiled package we can install
on CPython 3.11, ``fast-stark-crypto``, signs with a different nonce, so its signatures verify
but are not the SDK's. To produce the SDK's bytes we derive the same ``k`` here and compute
``r = x(k*G)`` with ``fastecdsa``'s compiled projective point addition over a fixed-base comb
(32 windows of 8 bits, 8,160 precomputed points built on first use, ~15 ms once): 32 point
additions per signature instead of a 252-bit double-and-add. Hashing (Pedersen) and
verification use ``fast-stark-crypto``.

Both packages ship manylinux CPython 3.11 wheels; neither is imported unless a config names
Paradex (the client factory imports a venue's package on first use).
"""

from __future__ import annotations

import hashlib
import hmac

import fast_stark_crypto
from fastecdsa import rust

FIELD_PRIME = 2**251 + 17 * 2**192 + 1
EC_ORDER = 0x0800000000000010FFFFFFFFFFFFFFFFB781126DCAE7B2321E66A241ADC64D2F
ALPHA = 1
BETA = 0x06F21413EFBE40DE150E596D72F7A8C5609AD26C15C915C1F4CDFCB99CEE9E89
GEN_X = 0x01EF15C18599971B7BECED415A40F0C7DEACFD9B0D1819E03D723D8BC943CFCA
GEN_Y = 0x005668060AA49730B7BE4801DF46EC62DE53ECD11ABE43A32873000C36E8DC1F
SIGNATURE_BOUND = 2**251
"""``r``, ``s`` and the hash must be below 2**251 (Starknet's ECDSA verification)."""

SDK_SEED = 32
"""The extra entropy paradex-py passes to ``starknet_crypto_py.sign`` (its ``seed=32``)."""

_WINDOW_BITS = 8
_WINDOWS = 32  # 32 * 8 = 256 >= 252 bits of a scalar

_curve = rust.Curve("stark", FIELD_PRIME, ALPHA, BETA, EC_ORDER, GEN_X, GEN_Y)
_comb: list[list[rust.Point]] = []


def _build_comb() -> list[list[rust.Point]]:
    """``table[i][j - 1] = j * 2**(8 i) * G`` for j in 1..255."""
    table: list[list[rust.Point]] = []
    base = rust.Point(GEN_X, GEN_Y, _curve, projective=True)
    for _ in range(_WINDOWS):
        row = [base]
        for _ in range(2**_WINDOW_BITS - 2):
            row.append(row[-1] + base)
        table.append(row)
        base = row[-1] + base  # 256 * base
    return table


def base_multiply_x(scalar: int) -> int:
    """The x coordinate of ``scalar * G`` (``0 < scalar < EC_ORDER``)."""
    if not _comb:
        _comb.extend(_build_comb())
    acc: rust.Point | None = None
    for window in range(_WINDOWS):
        digit = (scalar >> (window * _WINDOW_BITS)) & 0xFF
        if digit:
            point = _comb[window][digit - 1]
            acc = point if acc is None else acc + point
    if acc is None:
        raise ValueError("scalar must not be a multiple of the curve order")
    return acc.normalize().x


def _bits2int(data: bytes) -> int:
    value = int.from_bytes(data, "big")
    excess = len(data) * 8 - EC_ORDER.bit_length()
    return value >> excess if excess > 0 else value


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def rfc6979_k(msg_hash: int, private_key: int, seed: int | None = SDK_SEED) -> int:
    """The deterministic nonce the SDK uses (RFC 6979, SHA-256, extra entropy ``seed``)."""
    if 1 <= msg_hash.bit_length() % 8 <= 4 and msg_hash.bit_length() >= 248:
        msg_hash *= 16  # one nibble short: padded, as elliptic.js and the SDK do
    data = msg_hash.to_bytes((msg_hash.bit_length() + 7) // 8, "big")
    extra = b"" if seed is None else seed.to_bytes((seed.bit_length() + 7) // 8, "big")
    z1 = _bits2int(data)
    z2 = z1 - EC_ORDER if z1 >= EC_ORDER else z1
    material = private_key.to_bytes(32, "big") + z2.to_bytes(32, "big") + extra
    v, k = b"\x01" * 32, b"\x00" * 32
    k = _hmac(k, v + b"\x00" + material)
    v = _hmac(k, v)
    k = _hmac(k, v + b"\x01" + material)
    v = _hmac(k, v)
    while True:
        v = _hmac(k, v)
        candidate = _bits2int(v)
        if 1 <= candidate < EC_ORDER:
            return candidate
        k = _hmac(k, v + b"\x00")
        v = _hmac(k, v)


def sign(private_key: int, msg_hash: int) -> tuple[int, int]:
    """``(r, s)`` over ``msg_hash``, identical to the SDK's signature for the same key."""
    if not 0 <= msg_hash < SIGNATURE_BOUND:
        raise ValueError("message hash out of range")
    k = rfc6979_k(msg_hash, private_key)
    r = base_multiply_x(k)
    s = pow(k, -1, EC_ORDER) * (msg_hash + r * private_key) % EC_ORDER
    if not (0 < r < SIGNATURE_BOUND and 0 < s < SIGNATURE_BOUND):
        raise ValueError("nonce produced an out-of-range signature")  # ~2**-120: never seen
    return r, s


def verify(public_key: int, msg_hash: int, r: int, s: int) -> bool:
    """Whether ``(r, s)`` is ``public_key``'s signature of ``msg_hash`` (compiled check)."""
    if not (
        0 < r < SIGNATURE_BOUND and 0 < s < SIGNATURE_BOUND and 0 <= msg_hash < SIGNATURE_BOUND
    ):
        return False
    try:
        return fast_stark_crypto.verify(public_key, msg_hash, r, s)
    except (ValueError, RuntimeError, OverflowError):
        return False


def public_key(private_key: int) -> int:
    """The Stark public key (x coordinate) of ``private_key``."""
    return fast_stark_crypto.get_public_key(private_key)


def pedersen(left: int, right: int) -> int:
    """Starknet's Pedersen hash of two field elements (compiled)."""
    return fast_stark_crypto.pedersen_hash(left, right)
