"""EdgeX signatures equal what the official SDK produces (sdk_vectors.json, computed with
edgex-python-sdk 2.0.1 in a throwaway environment; the SDK is not a dependency)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.edgex.signing import (
    HmacSigner,
    OrderAmounts,
    OrderDomain,
    OrderSigner,
    order_amounts,
    order_digest,
    parse_resolution,
    query_text,
    wire_text,
)

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "sdk_vectors.json").read_text())
META = VECTORS["metadata"]
DOMAIN = OrderDomain(int(META["global"]["nativeChainId"], 16), META["global"]["contractAddress"])


def amounts_for(case: dict[str, Any]) -> OrderAmounts:
    inputs = case["input"]
    contract = next(c for c in META["contractList"] if c["contractId"] == inputs["contract_id"])
    coin = META["coinList"][0]
    return order_amounts(
        client_order_id=inputs["client_order_id"],
        account_id=VECTORS["account_id"],
        size=Decimal(inputs["size"]),
        price=Decimal(inputs["l2_price"]),
        is_buy=inputs["side"] == "BUY",
        fee_rate=max(
            Decimal(contract["defaultTakerFeeRate"]), Decimal(contract["defaultMakerFeeRate"])
        ),
        synthetic_resolution=parse_resolution(contract["resolution"]),
        collateral_resolution=parse_resolution(coin["resolution"]),
        synthetic_asset=int(contract["contractId"]),
        collateral_asset=int(coin["coinId"]),
        expire_time_ms=inputs["expire_time"],
    )


@pytest.mark.parametrize("case", VECTORS["orders"], ids=lambda c: c["input"]["client_order_id"])
def test_order_signature_and_fields_equal_the_sdk(case: dict[str, Any]) -> None:
    signer = OrderSigner(Secret(VECTORS["trading_private_key"]))
    assert signer.address == VECTORS["signer"]
    amounts = amounts_for(case)
    body = case["body"]
    assert str(amounts.nonce) == body["l2Nonce"]
    assert str(amounts.value) == body["l2Value"]
    assert str(amounts.limit_fee) == body["l2LimitFee"]
    assert str(amounts.expire_time_ms) == body["expireTime"]
    assert str(amounts.l2_expire_time_ms) == body["l2ExpireTime"]
    assert signer.sign(DOMAIN, amounts) == body["l2Signature"]


def test_fee_is_rounded_up_to_a_whole_unit_and_amounts_truncate() -> None:
    first = amounts_for(VECTORS["orders"][0])  # 60000.1 x 0.0012 = 72.00012; fee 0.0273.. -> 1
    assert first.limit_fee == 1
    assert first.fee == 1_000_000
    assert first.collateral == 72_000_120  # 72.00012 x 10**6, exact
    sell = amounts_for(VECTORS["orders"][1])
    assert sell.collateral == 1_110_203_500  # 3000.55 x 0.37 = 1110.2035, x 10**6
    fine = order_amounts(
        client_order_id="x",
        account_id=1,
        size=Decimal("0.123456789"),
        price=Decimal("0.0000017"),
        is_buy=True,
        fee_rate=Decimal("0.0005"),
        synthetic_resolution=Decimal(10**8),
        collateral_resolution=Decimal(10**6),
        synthetic_asset=1,
        collateral_asset=2,
        expire_time_ms=1_999,
    )
    assert (fine.synthetic, fine.collateral) == (12_345_678, 0)  # truncated, never rounded up
    assert (fine.limit_fee, fine.expiration_seconds) == (1, 1)  # a fee of 1e-10 still signs 1


def test_digest_equals_eth_account_typed_data_encoding() -> None:
    amounts = amounts_for(VECTORS["orders"][1])
    signer = VECTORS["signer"]
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "OrderBase": [
                {"name": "nonce", "type": "uint256"},
                {"name": "signer", "type": "address"},
                {"name": "accountId", "type": "uint64"},
                {"name": "expirationTimestamp", "type": "uint256"},
            ],
            "LimitOrderParams": [
                {"name": "base", "type": "OrderBase"},
                {"name": "amountSynthetic", "type": "int256"},
                {"name": "amountCollateral", "type": "int256"},
                {"name": "amountFee", "type": "uint256"},
                {"name": "assetIdSynthetic", "type": "uint64"},
                {"name": "assetIdCollateral", "type": "uint64"},
                {"name": "isBuyingSynthetic", "type": "bool"},
                {"name": "parentOrderHash", "type": "bytes32"},
                {"name": "subOrderIndex", "type": "uint256"},
            ],
        },
        "primaryType": "LimitOrderParams",
        "domain": {
            "name": "EdgeX",
            "version": "1",
            "chainId": DOMAIN.chain_id,
            "verifyingContract": DOMAIN.verifying_contract,
        },
        "message": {
            "base": {
                "nonce": amounts.nonce,
                "signer": signer,
                "accountId": amounts.account_id,
                "expirationTimestamp": amounts.expiration_seconds,
            },
            "amountSynthetic": amounts.synthetic,
            "amountCollateral": amounts.collateral,
            "amountFee": amounts.fee,
            "assetIdSynthetic": amounts.synthetic_asset,
            "assetIdCollateral": amounts.collateral_asset,
            "isBuyingSynthetic": amounts.is_buy,
            "parentOrderHash": bytes(32),
            "subOrderIndex": 0,
        },
    }
    signable = encode_typed_data(full_message=typed)
    expected = Account.sign_message(signable, VECTORS["trading_private_key"])
    assert (
        OrderSigner(Secret(VECTORS["trading_private_key"])).sign(DOMAIN, amounts)
        == bytes(expected.signature).hex()
    )
    assert order_digest(DOMAIN, amounts, signer) != order_digest(
        OrderDomain(DOMAIN.chain_id + 1, DOMAIN.verifying_contract), amounts, signer
    )


@pytest.mark.parametrize("case", VECTORS["hmac"]["cases"], ids=lambda c: c["path"])
def test_hmac_headers_equal_the_sdk(case: dict[str, Any]) -> None:
    spec = VECTORS["hmac"]
    signer = HmacSigner(
        Secret(spec["api_key"]), Secret(spec["api_secret"]), Secret(spec["passphrase"])
    )
    data = case["data"]
    body = query_text(data) if case["method"] == "GET" else wire_text(data)
    assert body == case["signed_body"]
    headers = signer.headers(case["method"], case["path"], body, int(spec["timestamp"]))
    assert headers == case["headers"]
    assert "key-1" not in repr(signer)


def test_a_malformed_trading_key_is_one_clear_line_without_the_key() -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        OrderSigner(Secret("0xnot-a-key-abcdef"))
    assert "not-a-key" not in str(caught.value)
    assert "64 hex" in str(caught.value)
