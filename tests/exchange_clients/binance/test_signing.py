"""Binance HMAC signing against the vector Binance publishes ("SIGNED Endpoint Examples for
POST /fapi/v1/order": the same key, secret, parameters and signature appear in Aster's v1
docs), and the signer's redaction."""

from __future__ import annotations

from urllib.parse import parse_qsl

from core.redaction import Secret
from exchange_clients.binance_style.signing import API_KEY_HEADER, HmacSigner, hmac_sha256_hex

DOC_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
DOC_PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
    "&recvWindow=5000&timestamp=1591702613943"
)
DOC_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


def test_hmac_matches_the_published_example() -> None:
    assert hmac_sha256_hex(DOC_SECRET, DOC_PAYLOAD) == DOC_SIGNATURE


def test_signer_appends_recv_window_timestamp_and_signature_and_sends_the_key_header() -> None:
    signer = HmacSigner(Secret(DOC_KEY), Secret(DOC_SECRET), recv_window_ms=5000)
    params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", "1"),
        ("price", "9000"),
        ("timeInForce", "GTC"),
    ]
    encoded, headers = signer.sign(params, 1591702613943)
    assert encoded == f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}"
    assert headers == {API_KEY_HEADER: DOC_KEY}
    assert dict(parse_qsl(encoded))["signature"] == DOC_SIGNATURE


def test_user_stream_requests_carry_the_key_but_no_signature() -> None:
    signer = HmacSigner(Secret(DOC_KEY), Secret(DOC_SECRET))
    encoded, headers = signer.sign_stream([], 1591702613943)
    assert encoded == ""
    assert headers == {API_KEY_HEADER: DOC_KEY}


def test_the_signer_never_shows_its_credentials() -> None:
    signer = HmacSigner(Secret(DOC_KEY), Secret(DOC_SECRET))
    assert DOC_SECRET not in repr(signer)
    assert DOC_KEY not in repr(signer)
