"""What each kind of credential value must look like, checked before anything is stored.

A key of the wrong kind (an address pasted where the private key goes, a hex key for a venue
that wants base64, a mistyped wallet address) would otherwise be stored encrypted and fail only
when the bot first signs an order - or, for an address, sign for the wrong account. The catalogue
(:mod:`core.venues`) names each field's ``format``; this module checks it.

Messages never contain a secret value: they say what was expected and what kind of thing was
found (its length, a bad character), nothing more.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from database.errors import InvalidInput

Check = Callable[[str, str], str]
"""``check(field_label, value) -> normalised value``; raises :class:`InvalidInput`."""

_HEX = re.compile(r"[0-9a-fA-F]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces
_MAX_API_KEY_INDEX = 254  # Lighter: 255 means "every key" in its API and cannot sign


def _strip_0x(value: str) -> str:
    return value[2:] if value[:2].lower() == "0x" else value


def _hex_bytes(label: str, value: str, size: int, what: str) -> bytes:
    digits = _strip_0x(value)
    if not _HEX.fullmatch(digits):
        raise InvalidInput(f"{label}: expected {what} ({size * 2} hex digits), found non-hex text")
    if len(digits) != size * 2:
        raise InvalidInput(
            f"{label}: expected {what} ({size * 2} hex digits), found {len(digits)} hex digits"
        )
    return bytes.fromhex(digits)


def checksum_address(address_hex: str) -> str:
    """The EIP-55 mixed-case form of a 40-hex-digit address (without ``0x``)."""
    from Crypto.Hash import keccak  # here: pycryptodome pulls in cffi and pycparser (~4 MB)

    lower = address_hex.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode()).hexdigest()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower)
    )


def evm_address(label: str, value: str) -> str:
    """A 20-byte address; mixed case must carry a valid EIP-55 checksum (a typo is caught)."""
    _hex_bytes(label, value, 20, "an 0x address")
    digits = _strip_0x(value)
    expected = checksum_address(digits)
    mixed = digits != digits.lower() and digits != digits.upper()
    if mixed and "0x" + digits != expected:
        raise InvalidInput(
            f"{label}: {value} fails its EIP-55 checksum (a mistyped character?); check the address"
        )
    return expected


def evm_private_key(label: str, value: str) -> str:
    """A secp256k1 private key: 32 bytes of hex, never an address (20 bytes)."""
    digits = _strip_0x(value)
    if _HEX.fullmatch(digits) and len(digits) == 40:
        raise InvalidInput(
            f"{label}: expected a 32-byte private key (64 hex digits), found 40 hex digits - "
            "that is an address, not a key"
        )
    key = _hex_bytes(label, value, 32, "a 32-byte private key")
    if not any(key):
        raise InvalidInput(f"{label}: the private key is all zeros")
    return value  # a secret is stored exactly as the operator gave it


def lighter_private_key(label: str, value: str) -> str:
    """Lighter API keys are 40 bytes of hex (the SDK's key format)."""
    _hex_bytes(label, value, 40, "a 40-byte Lighter API private key")
    return value


def ed25519_base64(label: str, value: str) -> str:
    """Backpack keys: base64 of 32 bytes (the public key or the seed)."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"{label}: expected base64 of a 32-byte ed25519 key, found non-base64"
        ) from None
    if len(raw) != 32:
        raise InvalidInput(
            f"{label}: expected base64 of a 32-byte ed25519 key, found {len(raw)} bytes"
        )
    return value


def non_negative_int(label: str, value: str) -> str:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise InvalidInput(f"{label}: expected a whole number >= 0, found {value!r}")
    return str(int(value))


def api_key_index(label: str, value: str) -> str:
    number = int(non_negative_int(label, value))
    if number > _MAX_API_KEY_INDEX:
        raise InvalidInput(
            f"{label}: expected an API key index from 0 to {_MAX_API_KEY_INDEX}, found {number}"
        )
    return str(number)


def email(label: str, value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise InvalidInput(f"{label}: expected an email address, found {value!r}")
    return value


def token(label: str, value: str) -> str:
    """An API key or secret of a CEX: printable, no spaces (a paste with a space is a mistake)."""
    if len(value) > 4096 or not _TOKEN.fullmatch(value):
        raise InvalidInput(
            f"{label}: expected printable characters without spaces ({len(value)} characters "
            "given, some not printable or spaces)"
        )
    return value


FORMATS: dict[str, Check] = {
    "evm_address": evm_address,
    "evm_private_key": evm_private_key,
    "lighter_private_key": lighter_private_key,
    "ed25519_base64": ed25519_base64,
    "non_negative_int": non_negative_int,
    "api_key_index": api_key_index,
    "email": email,
    "token": token,
}

FORMAT_HELP: dict[str, str] = {
    "evm_address": "0x + 40 hex digits, EIP-55 checksummed when mixed case",
    "evm_private_key": "0x + 64 hex digits",
    "lighter_private_key": "80 hex digits (0x optional)",
    "ed25519_base64": "base64 of 32 bytes",
    "non_negative_int": "a whole number >= 0",
    "api_key_index": f"a whole number 0-{_MAX_API_KEY_INDEX}",
    "email": "an email address",
    "token": "printable text without spaces",
}


def check_value(venue: str, field: str, fmt: str, value: str) -> str:
    """The normalised ``value`` of ``venue``'s ``field``, or :class:`InvalidInput`."""
    check = FORMATS.get(fmt)
    if check is None:  # a catalogue entry naming a format this module lacks is a code bug
        raise KeyError(f"credential format {fmt!r} of {venue}.{field} is not defined")
    return check(f"{venue} field {field!r}", value)
