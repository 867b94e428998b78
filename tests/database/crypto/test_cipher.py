"""Sealed blobs: confidentiality, integrity, and binding to their row."""

from __future__ import annotations

import pytest

from database.crypto.cipher import BLOB_VERSION, seal, seal_fields, unseal, unseal_fields
from database.crypto.keys import generate_key
from database.errors import SecretTampered, WrongMasterKey

CONTEXT = ("account_credentials", 1, "binance", "", "secrets")
SECRET = b"super-secret-api-secret-value"


def test_round_trip_and_no_plaintext_in_blob() -> None:
    key = generate_key("test")
    blob = seal(key, SECRET, CONTEXT)
    assert SECRET not in blob
    assert blob[0] == BLOB_VERSION == 2
    assert blob[1:17] == key.fingerprint
    assert unseal(key, blob, CONTEXT) == SECRET


def test_same_plaintext_gives_different_blobs() -> None:
    key = generate_key("test")
    assert seal(key, SECRET, CONTEXT) != seal(key, SECRET, CONTEXT)


def test_fields_round_trip() -> None:
    key = generate_key("test")
    fields = {"api_key": "k" * 20, "api_secret": "s" * 40}
    assert unseal_fields(key, seal_fields(key, fields, CONTEXT), CONTEXT) == fields


def test_wrong_key_is_reported_as_such_with_its_source() -> None:
    blob = seal(generate_key("test"), SECRET, CONTEXT)
    other = generate_key("PERPFLEET_MASTER_KEY")
    with pytest.raises(WrongMasterKey, match=r"active key \(PERPFLEET_MASTER_KEY\) is "):
        unseal(other, blob, CONTEXT)


@pytest.mark.parametrize("position", [29, 35, -1])  # first ciphertext byte, middle, tag
def test_flipped_ciphertext_byte_is_tampering(position: int) -> None:
    key = generate_key("test")
    blob = bytearray(seal(key, SECRET, CONTEXT))
    blob[position] ^= 0x01
    with pytest.raises(SecretTampered, match="altered or moved"):
        unseal(key, bytes(blob), CONTEXT)


def test_flipped_nonce_byte_is_tampering() -> None:
    key = generate_key("test")
    blob = bytearray(seal(key, SECRET, CONTEXT))
    blob[20] ^= 0x80
    with pytest.raises(SecretTampered):
        unseal(key, bytes(blob), CONTEXT)


@pytest.mark.parametrize(
    "other_context",
    [
        ("account_credentials", 2, "binance", "", "secrets"),
        ("account_credentials", 1, "hyperliquid", "", "secrets"),
        ("account_credentials", 1, "binance", "sub", "secrets"),
        ("proxies", 1, "binance", "", "secrets"),
    ],
)
def test_blob_from_another_row_is_tampering(other_context: tuple[str | int, ...]) -> None:
    key = generate_key("test")
    blob = seal(key, SECRET, CONTEXT)
    with pytest.raises(SecretTampered):
        unseal(key, blob, other_context)


@pytest.mark.parametrize("blob", [b"", b"\x01" * 20, b"\x03" + b"\x00" * 60])
def test_truncated_or_unknown_format_is_tampering(blob: bytes) -> None:
    with pytest.raises(SecretTampered, match="malformed"):
        unseal(generate_key("test"), blob, CONTEXT)
