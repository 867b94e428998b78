"""EIP-712 digests and secp256k1 signatures for venues that authenticate with an EVM key.

Hyperliquid (L1 actions) and Aster (v3 API wallet) sign EIP-712 typed data whose shape never
changes: only one or two fields differ per request. Encoding the whole typed data for every
order through eth-account costs ~250 us; hashing the two changing fields into precomputed
domain and type hashes and signing the digest with libsecp256k1 (coincurve) costs ~60 us and
gives byte-for-byte the same signature (RFC 6979 nonces, low-s), which each venue's tests pin
against eth-account's encoding.

Importing eth-account imports py_ecc, which raises the interpreter's recursion limit to 100000
for the whole process. With that limit a JSON body nested 100,000 deep overflowed the C stack
and killed the bot (segfault) instead of raising. This module, imported by every venue that
uses eth-account right after it, puts the limit back; the client factory also restores whatever
a venue import changes.
"""

from __future__ import annotations

import sys

import coincurve
from eth_account import Account
from eth_utils.crypto import keccak

SANE_RECURSION_LIMIT = 1000
"""CPython's default; nothing in perpfleet recurses deeper."""

if sys.getrecursionlimit() > SANE_RECURSION_LIMIT:
    sys.setrecursionlimit(SANE_RECURSION_LIMIT)

_DOMAIN_TYPE_HASH = bytes(
    keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
)


def domain_separator(name: str, version: str, chain_id: int, verifying_contract: str) -> bytes:
    """The EIP-712 domain separator for the standard four-field domain."""
    return bytes(
        keccak(
            _DOMAIN_TYPE_HASH
            + bytes(keccak(name.encode()))
            + bytes(keccak(version.encode()))
            + chain_id.to_bytes(32, "big")
            + bytes.fromhex(verifying_contract.removeprefix("0x")).rjust(32, b"\x00")
        )
    )


def typed_data_digest(separator: bytes, struct_hash: bytes) -> bytes:
    """``keccak(0x1901 || domain separator || struct hash)``: what an EIP-712 signature signs."""
    return bytes(keccak(b"\x19\x01" + separator + struct_hash))


class EvmKey:
    """A secp256k1 private key, parsed once; ``repr`` shows only its address."""

    def __init__(self, private_key: str) -> None:
        self.address: str = Account.from_key(private_key).address
        self._key = coincurve.PrivateKey(bytes.fromhex(private_key.removeprefix("0x")))

    def __repr__(self) -> str:
        return f"EvmKey({self.address})"

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """``(r, s, v)`` with ``v`` in {27, 28}, as Ethereum signatures carry it."""
        signature = self._key.sign_recoverable(digest, hasher=None)
        return (
            int.from_bytes(signature[:32], "big"),
            int.from_bytes(signature[32:64], "big"),
            signature[64] + 27,
        )

    def sign_digest_bytes(self, digest: bytes) -> bytes:
        """The 65-byte ``r || s || v`` form."""
        r, s, v = self.sign_digest(digest)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
