"""Paradex signatures equal the official SDK's (paradex-py; see ``produced_by`` in
``sdk_vectors.json`` for how the vectors were made), and the fake's verification refuses
anything else."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchange_clients.paradex import signing, starkcurve
from exchange_clients.paradex.signing import OrderMessage, StarkSigner

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "sdk_vectors.json").read_text())
ACCOUNTS = VECTORS["accounts"]


def account_id(account: dict[str, Any]) -> str:
    return f"{account['env']}-{account['l1_address'][:8]}"


def signer_of(account: dict[str, Any]) -> StarkSigner:
    key = signing.derive_stark_private_key(account["l1_private_key"], account["l1_chain_id"])
    address = signing.account_address(
        starkcurve.public_key(key),
        int(account["paraclear_account_hash"], 16),
        int(account["paraclear_account_proxy_hash"], 16),
    )
    return StarkSigner(key, address, account["starknet_chain_id"])


def order_of(body: dict[str, Any]) -> OrderMessage:
    return OrderMessage(
        timestamp_ms=body["signature_timestamp"],
        market=body["market"],
        side=body["side"].lower(),
        order_type=body["type"],
        size=Decimal(body["size"]),
        price=Decimal(body["price"]) if "price" in body else None,
    )


@pytest.mark.parametrize("account", ACCOUNTS, ids=account_id)
def test_stark_key_and_address_derive_as_the_sdk_per_l1_chain(account: dict[str, Any]) -> None:
    signer = signer_of(account)
    assert hex(signer._private_key) == account["l2_private_key"]
    assert hex(signer.public_key) == account["l2_public_key"]
    assert hex(signer.address) == account["l2_address"]


def test_the_l1_chain_changes_the_stark_key() -> None:
    key = ACCOUNTS[0]["l1_private_key"]
    mainnet = signing.derive_stark_private_key(key, signing.MAINNET_L1_CHAIN_ID)
    testnet = signing.derive_stark_private_key(key, signing.TESTNET_L1_CHAIN_ID)
    assert mainnet != testnet


@pytest.mark.parametrize("account", ACCOUNTS, ids=account_id)
def test_onboarding_and_auth_signatures_equal_the_sdk(account: dict[str, Any]) -> None:
    signer = signer_of(account)
    onboarding = account["onboarding"]
    assert hex(signer.message_hash(signing.onboarding_struct_hash())) == onboarding["message_hash"]
    assert signer.sign_onboarding() == onboarding["signature"]
    for auth in account["auth"]:
        struct = signing.auth_struct_hash(auth["timestamp"], auth["expiration"])
        assert hex(signer.message_hash(struct)) == auth["message_hash"]
        assert signer.sign_auth(auth["timestamp"], auth["expiration"]) == auth["signature"]


@pytest.mark.parametrize("account", ACCOUNTS, ids=account_id)
def test_order_hashes_and_signatures_equal_the_sdk(account: dict[str, Any]) -> None:
    signer = signer_of(account)
    for vector in account["orders"]:
        order = order_of(vector["body"])
        felts = order.felts()
        assert (str(felts[4]), str(felts[5])) == (vector["chain_size"], vector["chain_price"])
        assert hex(signer.order_hash(order)) == vector["message_hash"]
        # the unoptimised chain (no cached prefixes) agrees
        struct = signing.order_struct_hash(order)
        assert signing.message_hash(signer.starknet_chain, signer.address, struct) == int(
            vector["message_hash"], 16
        )
        assert signer.sign_order(order) == vector["signature"]


def test_sizes_and_prices_are_scaled_by_1e8_and_truncated() -> None:
    assert signing.chain_amount(Decimal("0.012345678912")) == 1234567
    assert signing.chain_amount(Decimal("65432.123456789")) == 6543212345678
    assert signing.chain_amount(Decimal("0.000000019")) == 1


def test_market_orders_sign_price_zero_whatever_the_reference() -> None:
    market = OrderMessage(1, "ETH-USD-PERP", "buy", "MARKET", Decimal("1"), None)
    assert market.felts()[5] == 0


def test_verification_refuses_other_messages_keys_and_malformed_text() -> None:
    signer = signer_of(ACCOUNTS[0])
    digest = signer.message_hash(signing.onboarding_struct_hash())
    good = signer.sign_onboarding()
    assert signing.verify_flat(signer.public_key, digest, good)
    assert not signing.verify_flat(signer.public_key, digest + 1, good)
    other = signer_of(ACCOUNTS[1])
    assert not signing.verify_flat(other.public_key, digest, good)
    for malformed in ("", "[1,2]", '["1"]', '["a","b"]', good[:-3], '["0","0"]'):
        assert not signing.verify_flat(signer.public_key, digest, malformed)
    r, s = signing.unflatten(good)
    assert not starkcurve.verify(signer.public_key, digest, r, starkcurve.SIGNATURE_BOUND + s)


def test_short_strings_and_felts_read_as_starknet_py_does() -> None:
    assert signing.felt("1") == 1
    assert signing.felt("0x10") == 16
    assert signing.felt("Paradex") == int.from_bytes(b"Paradex", "big")
    with pytest.raises(ValueError, match="short string"):
        signing.short_string("x" * 32)


def test_signer_repr_never_shows_the_key() -> None:
    signer = signer_of(ACCOUNTS[0])
    assert ACCOUNTS[0]["l2_private_key"][2:] not in repr(signer)
    assert str(int(ACCOUNTS[0]["l2_private_key"], 16)) not in repr(signer)
