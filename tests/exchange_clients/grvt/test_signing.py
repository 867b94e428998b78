"""GRVT order signing against signatures the official SDK (grvt-pysdk, version in the vectors
file) produced for the same keys and orders, plus eth-account's reference encoding, recovery,
and the exact-scaling refusals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchange_clients.grvt.signing import (
    CHAIN_IDS,
    GrvtSigner,
    OrderToSign,
    SigningError,
    TimeInForceCode,
    order_digest,
    order_leg,
    recover_signer,
    reference_digest,
)

VECTORS = json.loads((Path(__file__).parent / "sdk_vectors.json").read_text())
CASES: list[dict[str, Any]] = VECTORS["cases"]


def to_sign(case: dict[str, Any]) -> OrderToSign:
    instrument = VECTORS["instruments"][case["instrument"]]
    leg = order_leg(
        instrument["instrument_hash"],
        instrument["base_decimals"],
        Decimal(case["size"]),
        Decimal(case["price"]),
        is_buying=case["buy"],
    )
    return OrderToSign(
        sub_account_id=int(case["sub"]),
        is_market=case["market"],
        time_in_force=TimeInForceCode[case["tif"]],
        post_only=case["post_only"],
        reduce_only=case["reduce_only"],
        legs=(leg,),
        nonce=case["nonce"],
        expiration_ns=case["expiration"],
    )


def test_vectors_cover_every_environment_and_time_in_force() -> None:
    assert VECTORS["sdk"] == "grvt-pysdk"
    assert {c["env"] for c in CASES} == set(CHAIN_IDS)
    assert {c["tif"] for c in CASES} == {t.name for t in TimeInForceCode}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['env']}-{c['tif']}" for c in CASES])
def test_signature_equals_the_official_sdk(case: dict[str, Any]) -> None:
    signer = GrvtSigner(VECTORS["keys"][case["key"]], case["env"])
    signature = signer.sign(to_sign(case))
    assert (signature.r, signature.s, signature.v) == (case["r"], case["s"], case["v"])
    assert signature.signer == case["signer"] == case["address"]
    assert (signature.expiration, signature.nonce) == (str(case["expiration"]), case["nonce"])


@pytest.mark.parametrize("case", CASES, ids=[c["env"] for c in CASES])
def test_fast_digest_equals_eth_account_encoding(case: dict[str, Any]) -> None:
    order = to_sign(case)
    assert order_digest(order, case["env"]) == reference_digest(order, case["env"])


def test_recovery_names_the_signer_and_environments_do_not_mix() -> None:
    case = CASES[0]
    order = to_sign(case)
    signature = GrvtSigner(VECTORS["keys"][0], "prod").sign(order)
    assert recover_signer(order, "prod", signature.r, signature.s, signature.v) == case["address"]
    # testnet's chain id makes the same signature recover some other address
    assert (
        recover_signer(order, "testnet", signature.r, signature.s, signature.v) != (case["address"])
    )


def test_scaling_is_exact_or_refused() -> None:
    leg = order_leg("0x030501", 9, Decimal("1.013"), Decimal("65000.123456789"), is_buying=True)
    assert (leg.contract_size, leg.limit_price) == (1_013_000_000, 65_000_123_456_789)
    assert leg.asset_id == 0x030501
    with pytest.raises(SigningError, match=r"size 0\.0000000001 does not fit 9 decimals"):
        order_leg("0x030501", 9, Decimal("0.0000000001"), Decimal(1), is_buying=True)
    with pytest.raises(SigningError, match="price"):
        order_leg("0x030501", 9, Decimal(1), Decimal("0.0000000001"), is_buying=True)
    with pytest.raises(SigningError, match=r"size 1\.5 does not fit 0 decimals"):
        order_leg("0x032101", 0, Decimal("1.5"), Decimal(1), is_buying=True)


def test_out_of_range_fields_and_bad_inputs_are_refused() -> None:
    base = to_sign(CASES[0])
    with pytest.raises(SigningError, match="nonce"):
        OrderToSign(**{**_fields(base), "nonce": 2**32})
    with pytest.raises(SigningError, match="sub account id"):
        OrderToSign(**{**_fields(base), "sub_account_id": 2**64})
    with pytest.raises(SigningError, match="expiration"):
        OrderToSign(**{**_fields(base), "expiration_ns": 0})
    with pytest.raises(SigningError, match="unknown GRVT environment 'mainnet'"):
        GrvtSigner(VECTORS["keys"][0], "mainnet")
    with pytest.raises(SigningError, match="private_key is not") as info:
        GrvtSigner("0xnot-a-key", "prod")
    assert "not-a-key" not in str(info.value)


def test_repr_shows_the_address_only() -> None:
    signer = GrvtSigner(VECTORS["keys"][0], "prod")
    assert VECTORS["keys"][0][2:] not in repr(signer)
    assert signer.address in repr(signer)


def _fields(order: OrderToSign) -> dict[str, Any]:
    return {name: getattr(order, name) for name in OrderToSign.__slots__}
