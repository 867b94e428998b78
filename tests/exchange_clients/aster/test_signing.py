"""Aster v3 API-wallet signing.

Aster's docs ("Example of POST /fapi/v3/order") publish a demonstration API wallet - private
key ``0x4fd0...bae1`` for signer ``0x21cF...1bb0`` - but no signature for a fixed request, so
the vector here is: that key, a fixed parameter set and nonce; the payload string is pinned
exactly, and the signature must recover to the documented signer address. The signature
itself is deterministic (RFC 6979), so it is pinned too, as a regression vector we computed.
"""

from __future__ import annotations

from eth_account import Account

from core.redaction import Secret
from exchange_clients.aster.signing import (
    ApiWalletSigner,
    recover_signer,
    sign_message,
    v3_payload,
)

DOC_USER = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
DOC_SIGNER = "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
DOC_PRIVATE_KEY = "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1"
PARAMS = [
    ("symbol", "ASTERUSDT"),
    ("type", "LIMIT"),
    ("side", "BUY"),
    ("timeInForce", "GTC"),
    ("quantity", "20"),
    ("price", "0.5"),
]
NONCE = 1748310859508867
PAYLOAD = (
    "nonce=1748310859508867&price=0.5&quantity=20&side=BUY"
    f"&signer={DOC_SIGNER}&symbol=ASTERUSDT&timeInForce=GTC&type=LIMIT&user={DOC_USER}"
)
PINNED_SIGNATURE = (
    "0x57a0751c8c851f4e50140dc10dd54350202098a4ad3e435ab49c91e62e612e9f"
    "721c73c1b6bc09a954867e99958e6f2fac974e067465f0fa5cc2dfaa0500ceed1b"
)


def test_the_documented_private_key_belongs_to_the_documented_signer() -> None:
    assert Account.from_key(DOC_PRIVATE_KEY).address == DOC_SIGNER


def test_payload_is_the_sorted_form_encoding_with_user_signer_and_nonce() -> None:
    assert v3_payload(PARAMS, DOC_USER, DOC_SIGNER, NONCE) == PAYLOAD


def test_signature_recovers_to_the_signer() -> None:
    signature = sign_message(PAYLOAD, Secret(DOC_PRIVATE_KEY))
    assert signature.startswith("0x")
    assert len(signature) == 2 + 65 * 2
    assert recover_signer(PAYLOAD, signature) == DOC_SIGNER
    # Deterministic (RFC 6979): pinned so a change in the EIP-712 encoding is caught.
    assert signature == PINNED_SIGNATURE


def test_a_changed_parameter_does_not_recover_to_the_signer() -> None:
    signature = sign_message(PAYLOAD, Secret(DOC_PRIVATE_KEY))
    assert recover_signer(PAYLOAD.replace("price=0.5", "price=0.6"), signature) != DOC_SIGNER


def test_signer_encodes_params_then_signature_last_with_increasing_nonces() -> None:
    signer = ApiWalletSigner(DOC_USER, DOC_SIGNER, Secret(DOC_PRIVATE_KEY))
    first, headers = signer.sign(PARAMS, 0)
    second, _ = signer.sign(PARAMS, 0)
    assert headers == {}
    payload, _, signature = first.rpartition("&signature=")
    assert recover_signer(payload, signature) == DOC_SIGNER
    nonce_of = lambda encoded: int(encoded.split("nonce=")[1].split("&")[0])  # noqa: E731
    assert nonce_of(second) > nonce_of(first)
    assert DOC_PRIVATE_KEY not in repr(signer)


def test_the_precomputed_digest_is_the_typed_data_digest() -> None:
    from eth_account.messages import _hash_eip191_message

    from exchange_clients.aster.signing import message_digest, typed_message

    assert message_digest(PAYLOAD) == _hash_eip191_message(typed_message(PAYLOAD))
