"""Credential values are checked per venue format before anything is stored or prompted for."""

from __future__ import annotations

import base64

import pytest

from core.venues import VENUES
from database.credential_formats import FORMAT_HELP, FORMATS, check_value, checksum_address
from database.errors import InvalidInput
from tests.database.test_cli import cli

# EIP-55's own test vector.
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_every_catalogue_field_names_a_known_format() -> None:
    for venue in VENUES.values():
        for field in venue.credential_fields:
            assert field.format in FORMATS, f"{venue.name}.{field.name}"
            assert field.format in FORMAT_HELP


def test_checksum_matches_eip55_vector() -> None:
    assert checksum_address(CHECKSUMMED[2:].lower()) == CHECKSUMMED


@pytest.mark.parametrize(
    "value", [CHECKSUMMED, CHECKSUMMED.lower(), "0x" + CHECKSUMMED[2:].upper()]
)
def test_addresses_are_normalised_to_checksum(value: str) -> None:
    assert check_value("hyperliquid", "vault_address", "evm_address", value) == CHECKSUMMED


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "fails its EIP-55 checksum"),
        ("0x1234", "found 4 hex digits"),
        ("0xzz" + "0" * 38, "non-hex"),
    ],
)
def test_bad_addresses_are_refused(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_value("aster", "user", "evm_address", value)


def test_an_address_given_as_private_key_is_named_as_such() -> None:
    with pytest.raises(InvalidInput, match="that is an address, not a key"):
        check_value("hyperliquid", "private_key", "evm_private_key", CHECKSUMMED)


def test_private_key_messages_never_contain_the_value() -> None:
    bad = "0x" + "ab" * 31 + "zz"
    with pytest.raises(InvalidInput) as caught:
        check_value("hyperliquid", "private_key", "evm_private_key", bad)
    assert "ab" * 4 not in str(caught.value)


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("evm_private_key", "0x" + "5a" * 32, "0x" + "00" * 32),
        ("lighter_private_key", "3c" * 40, "3c" * 32),
        ("ed25519_base64", base64.b64encode(bytes(range(32))).decode(), "aGVsbG8="),
        ("non_negative_int", "7001", "-1"),
        ("api_key_index", "3", "255"),
        ("email", "alice@example.com", "alice"),
        ("token", "abcDEF123-_", "has space"),
    ],
)
def test_each_format_accepts_good_and_refuses_bad(fmt: str, good: str, bad: str) -> None:
    check_value("venue", "field", fmt, good)
    with pytest.raises(InvalidInput):
        check_value("venue", "field", fmt, bad)


async def test_cli_help_lists_each_venues_fields(migrated_db_url: str) -> None:
    result = cli(migrated_db_url, "accounts", "add", "--help")
    assert result.code == 0
    for venue in VENUES.values():
        assert f"  {venue.name}:" in result.out
        for field in venue.credential_fields:
            assert field.name in result.out


async def test_cli_refuses_a_mistyped_address_before_asking_for_secrets(
    migrated_db_url: str,
) -> None:
    """stdin is closed: reaching a prompt would fail with "no input"; the format error wins."""
    result = cli(
        migrated_db_url,
        "accounts",
        "add",
        "--name",
        "hl",
        "--venue",
        "hyperliquid",
        "--set",
        "vault_address=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
    )
    assert (result.code, result.err) == (
        2,
        "error: hyperliquid field 'vault_address': 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD "
        "fails its EIP-55 checksum (a mistyped character?); check the address\n",
    )


async def test_cli_detects_existing_credentials_before_asking_for_secrets(
    migrated_db_url: str,
) -> None:
    env = {"PERPFLEET_BINANCE_API_KEY": "key-123", "PERPFLEET_BINANCE_API_SECRET": "secret-456"}
    first = cli(
        migrated_db_url,
        *["accounts", "add", "--name", "bn", "--venue", "binance", "--from-env"],
        env=env,
    )
    assert first.code == 0, first.err
    # Without --from-env the secrets would be prompted for (stdin closed: "no input").
    again = cli(migrated_db_url, "accounts", "add", "--name", "bn", "--venue", "binance")
    assert (again.code, again.err) == (
        2,
        "error: account 'bn' already has binance credentials; remove them first with "
        "`python -m database accounts remove --name bn --venue binance`\n",
    )


async def test_cli_refuses_a_key_of_the_wrong_format_from_the_environment(
    migrated_db_url: str,
) -> None:
    env = {"PERPFLEET_HYPERLIQUID_PRIVATE_KEY": CHECKSUMMED}
    result = cli(
        migrated_db_url,
        *["accounts", "add", "--name", "hl", "--venue", "hyperliquid", "--from-env"],
        env=env,
    )
    assert result.code == 2
    assert "that is an address, not a key" in result.err
    assert CHECKSUMMED not in result.err
    listing = cli(migrated_db_url, "accounts", "list")
    assert listing.out == "no accounts\n"
