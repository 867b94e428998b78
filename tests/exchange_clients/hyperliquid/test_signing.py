"""Hyperliquid signing against the reference SDK's published vectors, plus recovery and wire
formatting. The expected signatures are the ones Hyperliquid's official Python SDK asserts in its
own tests for the same key and actions (tests/signing_test.py of hyperliquid-python-sdk)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from exchange_clients.hyperliquid.signing import (
    SigningError,
    action_hash,
    decimal_to_wire,
    order_action,
    order_wire,
    phantom_agent,
    recover_l1_signer,
    sign_l1_action,
    trigger_type,
)

D = Decimal
KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
# The SDK's dummy action: {"type": "dummy", "num": float_to_int_for_hashing(1000)} = 1000 x 1e8.
DUMMY = {"type": "dummy", "num": 100_000_000_000}


def test_the_phantom_agent_of_a_production_order() -> None:
    action = order_action([order_wire(4, True, D("1670.1"), D("0.0147"), tif="Ioc")])
    agent = phantom_agent(action_hash(action, None, 1677777606040, None), mainnet=True)
    assert agent["source"] == "a"
    assert "0x" + agent["connectionId"].hex() == (
        "0x0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
    )


@pytest.mark.parametrize(
    ("action", "vault", "mainnet", "expected"),
    [
        (
            DUMMY,
            None,
            True,
            (
                "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
                "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
                27,
            ),
        ),
        (
            DUMMY,
            None,
            False,
            (
                "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510",
                "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613",
                28,
            ),
        ),
        (
            order_action([order_wire(1, True, D(100), D(100))]),
            None,
            True,
            (
                "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
                "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
                28,
            ),
        ),
        (
            order_action(
                [order_wire(1, True, D(100), D(100), cloid="0x00000000000000000000000000000001")]
            ),
            None,
            False,
            (
                "0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d",
                "0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988",
                28,
            ),
        ),
        (
            DUMMY,
            VAULT,
            True,
            (
                "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
                "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c",
                28,
            ),
        ),
    ],
    ids=["dummy-mainnet", "dummy-testnet", "order-mainnet", "order-cloid-testnet", "vault"],
)
def test_signatures_match_the_reference_vectors(
    action: dict[str, object], vault: str | None, mainnet: bool, expected: tuple[str, str, int]
) -> None:
    signature = sign_l1_action(KEY, action, nonce=0, mainnet=mainnet, vault_address=vault)
    assert (signature["r"], signature["s"], signature["v"]) == expected


def test_the_signer_is_recovered_and_a_change_is_detected() -> None:
    address = Account.from_key(KEY).address
    action = order_action([order_wire(0, False, D("65000.5"), D("0.001"), reduce_only=True)])
    signature = sign_l1_action(KEY, action, nonce=1700000000000, mainnet=False)
    assert recover_l1_signer(action, signature, nonce=1700000000000, mainnet=False) == address
    # Another nonce, network or size: the signature no longer belongs to this key.
    assert recover_l1_signer(action, signature, nonce=1700000000001, mainnet=False) != address
    assert recover_l1_signer(action, signature, nonce=1700000000000, mainnet=True) != address
    tampered = order_action([order_wire(0, False, D("65000.5"), D("0.002"), reduce_only=True)])
    assert recover_l1_signer(tampered, signature, nonce=1700000000000, mainnet=False) != address


def test_expiry_is_part_of_the_hash() -> None:
    without = action_hash(DUMMY, None, 5, None)
    with_expiry = action_hash(DUMMY, None, 5, 99)
    assert without != with_expiry
    assert keccak(b"") != without  # a real digest, not an empty one


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (D("100"), "100"),
        (D("100.000"), "100"),
        (D("1670.10"), "1670.1"),
        (D("0.00000001"), "0.00000001"),
        (D("1E+3"), "1000"),
        (D("-0"), "0"),
        (D("0"), "0"),
    ],
)
def test_decimals_go_on_the_wire_exactly(value: Decimal, wire: str) -> None:
    assert decimal_to_wire(value) == wire


def test_more_than_eight_decimals_is_refused_not_rounded() -> None:
    with pytest.raises(SigningError, match="more than 8 decimals"):
        decimal_to_wire(D("0.000000001"))


@pytest.mark.parametrize("mainnet", [True, False])
def test_the_precomputed_digest_is_the_typed_data_digest(mainnet: bool) -> None:
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    from exchange_clients.hyperliquid.signing import l1_digest, l1_typed_data

    connection_id = action_hash(DUMMY, None, 1677777606040, None)
    typed = encode_typed_data(full_message=l1_typed_data(phantom_agent(connection_id, mainnet)))
    assert l1_digest(connection_id, mainnet) == _hash_eip191_message(typed)


# Computed with the official hyperliquid-python-sdk 0.24.0 (utils.signing.sign_l1_action) in a
# throwaway environment, for the actions our client sends; only the outputs are kept here.
SDK_KEY = "0x" + "5a" * 32
SDK_CLOID = "0x" + "ab" * 16


@pytest.mark.parametrize(
    ("action", "nonce", "vault", "mainnet", "expected"),
    [
        (
            order_action(
                [order_wire(0, True, D("64123"), D("0.01234"), tif="Alo", cloid=SDK_CLOID)]
            ),
            1795000000000,
            None,
            True,
            {
                "r": "0xc871c889d2897ba6817bba1d85d777c901130c7f646aaed0511fcf7a50a10495",
                "s": "0x7f7c9a6330b6d70dec353be8b40db61d250dea2debf3a74f2e194bc78cdb659b",
                "v": 28,
            },
        ),
        (
            order_action(
                [order_wire(0, True, D("64123"), D("0.01234"), tif="Alo", cloid=SDK_CLOID)]
            ),
            1795000000000,
            VAULT,
            False,
            {
                "r": "0x61229e7b3df62d6ecf7c8f3e3592964b68e685327d83da014c40e30cd681c1f8",
                "s": "0x6875790b4c392331d47b3502852b42a347645798185214c1a839d7c80846a544",
                "v": 27,
            },
        ),
        (
            {"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": SDK_CLOID}]},
            1795000000001,
            None,
            True,
            {
                "r": "0x24bccfd4708233b8e3b8d0f8c1e18de50363faac1fc58ed23cffabc191df3b0",
                "s": "0x9e244d2c57480a6151170cbb94c61a9bd982adaea7b3a5c10467d315e079773",
                "v": 28,
            },
        ),
        (
            {"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 3},
            1795000000002,
            None,
            True,
            {
                "r": "0x69c506ea5a0f21fb940a50f515d2b04ec83bae27048afebb563e0e90905a1b1c",
                "s": "0x4a91908054d090200bfb4458eaecb3b187aaac43d272910d205a442e90c75711",
                "v": 27,
            },
        ),
        (
            # A reduce-only stop-loss (sell, trigger 58000, market at worst 52200 = trigger - 10 %).
            order_action(
                [
                    order_wire(
                        0,
                        False,
                        D("52200"),
                        D("0.01234"),
                        reduce_only=True,
                        cloid=SDK_CLOID,
                        trigger=trigger_type(D("58000"), "sl"),
                    )
                ]
            ),
            1795000000003,
            None,
            True,
            {
                "r": "0x9a45e590550c300958e8697d7bce3c49967df55993b09df6747d99dbf598ff67",
                "s": "0x62194329fed337289b3777a85368c7b517ba42fe8f1574542ae852d7fe30be",
                "v": 27,
            },
        ),
        (
            # A short's stop-loss (buy, trigger 3100, worst 3410) for a vault, on testnet.
            order_action(
                [
                    order_wire(
                        1,
                        True,
                        D("3410.00"),
                        D("0.5"),
                        reduce_only=True,
                        cloid=SDK_CLOID,
                        trigger=trigger_type(D("3100"), "sl"),
                    )
                ]
            ),
            1795000000004,
            VAULT,
            False,
            {
                "r": "0x7fd4627842233d84d586e6e8ecc9c197327a33ad61e57d5847d035ba27714682",
                "s": "0x383edf3ed56f0f2506bdd87ed16bbbee167a734393d11c463bf8d6b4c5c2dd2a",
                "v": 28,
            },
        ),
    ],
    ids=[
        "order-cloid-alo",
        "order-vault-testnet",
        "cancel-by-cloid",
        "update-leverage",
        "stop-loss-sell",
        "stop-loss-buy-vault-testnet",
    ],
)
def test_signatures_equal_the_official_sdks_for_our_actions(
    action: dict[str, object], nonce: int, vault: str | None, mainnet: bool, expected: object
) -> None:
    assert (
        sign_l1_action(SDK_KEY, action, nonce=nonce, mainnet=mainnet, vault_address=vault)
        == expected
    )


def test_a_trigger_order_hashes_its_keys_in_the_sdks_order() -> None:
    wire = order_wire(
        0, False, D(52200), D("0.01"), reduce_only=True, trigger=trigger_type(D(58000))
    )
    assert list(wire) == ["a", "b", "p", "s", "r", "t"]
    assert wire["t"] == {"trigger": {"isMarket": True, "triggerPx": "58000", "tpsl": "sl"}}
    assert list(wire["t"]["trigger"]) == ["isMarket", "triggerPx", "tpsl"]
