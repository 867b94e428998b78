"""Backpack request signing: the documented string, a pinned ED25519 vector, key checks."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.backpack.signing import (
    Ed25519Signer,
    WireValue,
    signing_string,
    wire_text,
)
from testing.fakes.backpack import keypair

SEED = bytes([7]) * 32
KEY, SECRET = keypair(SEED)


def signer(window_ms: int = 5000) -> Ed25519Signer:
    return Ed25519Signer(Secret(KEY), Secret(SECRET), window_ms=window_ms)


def test_the_docs_worked_example_string() -> None:
    # Backpack API docs, "Authentication > Signing requests": the orderCancel example.
    assert (
        signing_string("orderCancel", {"symbol": "BTC_USDT", "orderId": 28}, 1614550000000, 5000)
        == "instruction=orderCancel&orderId=28&symbol=BTC_USDT&timestamp=1614550000000&window=5000"
    )


def test_no_parameters_signs_instruction_timestamp_and_window_only() -> None:
    assert (
        signing_string("positionQuery", {}, 1614550000000, 5000)
        == "instruction=positionQuery&timestamp=1614550000000&window=5000"
    )


def test_values_are_written_as_the_json_body_carries_them() -> None:
    assert wire_text(True) == "true"
    assert wire_text(False) == "false"
    assert wire_text(Decimal("0.00001")) == "0.00001"  # never 1E-5
    assert wire_text(Decimal("1E+3")) == "1000"
    assert wire_text(4294967295) == "4294967295"


def test_ed25519_primitive_matches_rfc8032_test_1() -> None:
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert key.public_key().public_bytes_raw().hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert key.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
        "39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_pinned_signature_vector_for_the_docs_example() -> None:
    """The docs give no key, so this vector was computed once with seed 0x07 * 32 and pinned
    (ED25519 signatures are deterministic)."""
    assert KEY == "6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw="
    headers = signer().headers("orderCancel", {"orderId": 28, "symbol": "BTC_USDT"}, 1614550000000)
    assert headers == {
        "X-API-Key": KEY,
        "X-Signature": "XhRUJtSVD+f0huHv3X/VpfNefAt+d3Weyzh+CV1njJwdFtlQ04RQ8dv+DYLZKQq7xJ1RB2k/"
        "KINvh7EuMwXqDQ==",
        "X-Timestamp": "1614550000000",
        "X-Window": "5000",
    }


def test_pinned_signature_vector_for_an_order() -> None:
    params: dict[str, WireValue] = {
        "symbol": "SOL_USDC_PERP",
        "side": "Bid",
        "orderType": "Limit",
        "price": Decimal("141"),
        "quantity": Decimal("12"),
        "postOnly": True,
        "clientId": 1001,
        "timeInForce": "GTC",
    }
    message = signing_string("orderExecute", params, 1750793021519, 5000)
    assert message == (
        "instruction=orderExecute&clientId=1001&orderType=Limit&postOnly=true&price=141"
        "&quantity=12&side=Bid&symbol=SOL_USDC_PERP&timeInForce=GTC"
        "&timestamp=1750793021519&window=5000"
    )
    assert signer().sign(message) == (
        "cFi8ultVhe+ehMJpKmC6NpfYzcNvKC5aatwulto9KeTTjTfTooV4LSbHA+3RB+EKFk5ivr0I9Uq2nFVBITysAQ=="
    )


def test_private_stream_subscribe_signature() -> None:
    key, signature, timestamp, window = signer().subscribe_signature(1614550000000)
    assert (key, timestamp, window) == (KEY, "1614550000000", "5000")
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key()
    public.verify(
        base64.b64decode(signature), b"instruction=subscribe&timestamp=1614550000000&window=5000"
    )


def test_a_key_that_is_not_the_secrets_public_key_is_refused_up_front() -> None:
    other_key, _ = keypair(bytes([8]) * 32)
    with pytest.raises(AuthenticationFailed, match="not the public key of api_secret"):
        Ed25519Signer(Secret(other_key), Secret(SECRET))


@pytest.mark.parametrize(
    ("secret", "reason"),
    [("not base64!!", "not valid base64"), (base64.b64encode(b"short").decode(), "32 bytes")],
)
def test_malformed_secrets_are_one_line_errors_without_the_secret(secret: str, reason: str) -> None:
    with pytest.raises(AuthenticationFailed, match=reason) as caught:
        Ed25519Signer(Secret(KEY), Secret(secret))
    assert secret not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_signer_never_shows_its_keys() -> None:
    text = repr(signer()) + str(signer())
    assert SECRET not in text
    assert KEY not in text


def test_window_is_bounded_by_the_documented_maximum() -> None:
    with pytest.raises(ValueError, match="60000"):
        signer(window_ms=60_001)
