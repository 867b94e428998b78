"""The native signer, pinned: what is deterministic for fixed inputs, and what is not.

For a fixed key, chain id, account, API key index, nonce and order fields, ``tx_info`` carries
exactly those fields (pinned below); ``ExpiredAt`` is the signer's clock + 599 s; the tx hash is
a function of the fields and ``ExpiredAt`` (two signings in the same millisecond share it);
``Sig`` is randomised (those same two signings differ in it), so it is checked by structure
(80 bytes of base64), not pinned.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import AuthenticationFailed
from core.redaction import Secret
from exchange_clients.lighter import wire
from exchange_clients.lighter.signing import LighterSigner, SignedTx, library_path

KEY = "0x" + "a1" * 40
ACCOUNT, API_KEY, CHAIN = 123_456, 7, wire.MAINNET_CHAIN_ID

ORDER = {
    "market_index": 1,
    "client_order_index": 987_654_321,
    "base_amount": 12_345,
    "price": 601_234,
    "is_ask": True,
    "order_type": wire.ORDER_TYPE_LIMIT,
    "time_in_force": wire.TIF_POST_ONLY,
    "reduce_only": True,
    "order_expiry": 1_900_000_000_000,
    "nonce": 42,
}
PINNED_ORDER_INFO = {
    "AccountIndex": 123456,
    "ApiKeyIndex": 7,
    "MarketIndex": 1,
    "ClientOrderIndex": 987654321,
    "BaseAmount": 12345,
    "Price": 601234,
    "IsAsk": 1,
    "Type": 0,
    "TimeInForce": 2,
    "ReduceOnly": 1,
    "TriggerPrice": 0,
    "OrderExpiry": 1900000000000,
    "Nonce": 42,
    "L2TxAttributes": None,
}


@pytest.fixture(scope="module")
def signer() -> LighterSigner:
    return LighterSigner(Secret(KEY), account_index=ACCOUNT, api_key_index=API_KEY, chain_id=CHAIN)


def _without_volatile(info: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in info.items() if k not in ("ExpiredAt", "Sig")}


def _check_signature(signed: SignedTx, before_ms: int, after_ms: int) -> None:
    info = signed.info
    assert len(base64.b64decode(str(info["Sig"]), validate=True)) == 80
    assert before_ms + 599_000 <= int(str(info["ExpiredAt"])) <= after_ms + 599_000
    assert len(bytes.fromhex(signed.tx_hash)) == 40


def test_the_library_is_the_one_bundled_with_the_sdk() -> None:
    path = library_path()
    assert path.exists()
    assert path.parent.name == "signers"
    assert path.parent.parent.name == "lighter"


def test_create_order_vector(signer: LighterSigner) -> None:
    before = time.time_ns() // 1_000_000
    signed = signer.sign_create_order_sync(**ORDER)  # type: ignore[arg-type]
    after = time.time_ns() // 1_000_000
    assert signed.tx_type == wire.TX_CREATE_ORDER == 14
    assert _without_volatile(signed.info) == PINNED_ORDER_INFO
    assert list(signed.info) == [
        *list(PINNED_ORDER_INFO)[:12],
        "ExpiredAt",
        "Nonce",
        "Sig",
        "L2TxAttributes",
    ]
    _check_signature(signed, before, after)


def test_hash_is_deterministic_and_the_signature_randomised(signer: LighterSigner) -> None:
    """Sign twice at the same moment (two threads at a barrier; ctypes releases the GIL) until
    both land in the same millisecond: same ``ExpiredAt`` -> same hash, different ``Sig``."""
    barrier = threading.Barrier(2)

    def sign() -> SignedTx:
        barrier.wait()
        return signer.sign_create_order_sync(**ORDER)  # type: ignore[arg-type]

    hashes: set[str] = set()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(500):
            first, second = (f.result() for f in [pool.submit(sign), pool.submit(sign)])
            hashes |= {first.tx_hash, second.tx_hash}
            if first.info["ExpiredAt"] == second.info["ExpiredAt"]:
                assert first.tx_hash == second.tx_hash
                assert first.info["Sig"] != second.info["Sig"]
                assert _without_volatile(first.info) == _without_volatile(second.info)
                break
        else:
            pytest.fail("no two signatures in the same millisecond (machine too busy?)")
    other = signer.sign_create_order_sync(**{**ORDER, "nonce": 43})  # type: ignore[arg-type]
    assert other.tx_hash not in hashes  # another nonce, another hash


def test_cancel_and_leverage_vectors(signer: LighterSigner) -> None:
    before = time.time_ns() // 1_000_000
    cancel = signer.sign_cancel_order_sync(market_index=1, order_index=281_000_000_123, nonce=43)
    leverage = signer.sign_update_leverage_sync(
        market_index=0, initial_margin_fraction=3333, margin_mode=0, nonce=44
    )
    after = time.time_ns() // 1_000_000
    assert cancel.tx_type == wire.TX_CANCEL_ORDER == 15
    assert _without_volatile(cancel.info) == {
        "AccountIndex": ACCOUNT,
        "ApiKeyIndex": API_KEY,
        "MarketIndex": 1,
        "Index": 281_000_000_123,
        "Nonce": 43,
        "L2TxAttributes": None,
    }
    assert leverage.tx_type == wire.TX_UPDATE_LEVERAGE == 20
    assert _without_volatile(leverage.info) == {
        "AccountIndex": ACCOUNT,
        "ApiKeyIndex": API_KEY,
        "MarketIndex": 0,
        "InitialMarginFraction": 3333,
        "MarginMode": 0,
        "Nonce": 44,
        "L2TxAttributes": None,
    }
    _check_signature(cancel, before, after)
    _check_signature(leverage, before, after)


def test_default_order_expiry_is_28_days(signer: LighterSigner) -> None:
    before = time.time_ns() // 1_000_000
    signed = signer.sign_create_order_sync(**{**ORDER, "order_expiry": -1})  # type: ignore[arg-type]
    after = time.time_ns() // 1_000_000
    days_28 = 28 * 24 * 3600 * 1000
    assert before + days_28 <= int(str(signed.info["OrderExpiry"])) <= after + days_28


def test_auth_token_format(signer: LighterSigner) -> None:
    token = signer.create_auth_token_sync(1_900_000_000)
    deadline, account, api_key, signature = token.split(":")
    assert (deadline, account, api_key) == ("1900000000", str(ACCOUNT), str(API_KEY))
    assert len(bytes.fromhex(signature)) == 80
    assert signer.create_auth_token_sync(1_900_000_000) != token  # randomised like the Sig


async def test_async_wrappers_run_in_a_thread_and_agree(signer: LighterSigner) -> None:
    signed = await signer.sign_create_order(**ORDER)
    assert _without_volatile(signed.info) == PINNED_ORDER_INFO
    assert (await signer.create_auth_token(1_900_000_000)).startswith("1900000000:")


def test_a_malformed_key_fails_clearly_without_echoing_it() -> None:
    secret_key = "0xZZ" + "b7" * 39
    with pytest.raises(AuthenticationFailed) as caught:
        LighterSigner(Secret(secret_key), account_index=1, api_key_index=9, chain_id=CHAIN)
    message = str(caught.value)
    assert "not a valid Lighter API private key" in message
    assert "b7b7" not in message
    assert "ZZ" not in message
    assert "'Z'" not in message
    assert "\n" not in message


def test_tx_info_is_plain_json(signer: LighterSigner) -> None:
    signed = signer.sign_cancel_order_sync(market_index=0, order_index=1, nonce=1)
    assert json.loads(signed.tx_info) == signed.info


def test_two_keys_for_one_index_in_one_process_are_refused(signer: LighterSigner) -> None:
    """The native library holds one key per (account, API key index): never swap it silently."""
    with pytest.raises(AuthenticationFailed, match="already in use in this process"):
        LighterSigner(
            Secret("0x" + "d2" * 40), account_index=ACCOUNT, api_key_index=API_KEY, chain_id=CHAIN
        )
    again = LighterSigner(Secret(KEY), account_index=ACCOUNT, api_key_index=API_KEY, chain_id=CHAIN)
    assert _without_volatile(again.sign_create_order_sync(**ORDER).info) == PINNED_ORDER_INFO  # type: ignore[arg-type]


STOP_LOSS = {
    **ORDER,
    "client_order_index": 987_654_322,
    "price": 584_100,
    "order_type": wire.ORDER_TYPE_STOP_LOSS,
    "time_in_force": wire.TIF_IOC,
    "trigger_price": 590_000,
    "nonce": 45,
}
SDK_STOP_LOSS_INFO = json.loads(
    '{"AccountIndex":123456,"ApiKeyIndex":7,"MarketIndex":1,"ClientOrderIndex":987654322,'
    '"BaseAmount":12345,"Price":584100,"IsAsk":1,"Type":2,"TimeInForce":0,"ReduceOnly":1,'
    '"TriggerPrice":590000,"OrderExpiry":1900000000000,"Nonce":45,"L2TxAttributes":null}'
)
"""``tx_info`` of the official SDK (lighter-sdk 1.1.8, ``SignerClient.sign_create_order`` with
``ORDER_TYPE_STOP_LOSS``, IOC, reduce-only, ``trigger_price=590000``, the key above), computed
once in a throwaway venv; ``ExpiredAt`` and ``Sig`` left out (clock and randomness)."""


def test_stop_loss_vector_matches_the_official_sdk(signer: LighterSigner) -> None:
    """The trigger price lands in ``TriggerPrice`` (our positional call into the library puts
    it where the SDK does) and the order type is the SDK's stop-loss."""
    before = time.time_ns() // 1_000_000
    signed = signer.sign_create_order_sync(**STOP_LOSS)  # type: ignore[arg-type]
    after = time.time_ns() // 1_000_000
    assert signed.tx_type == wire.TX_CREATE_ORDER
    assert _without_volatile(signed.info) == SDK_STOP_LOSS_INFO
    _check_signature(signed, before, after)
