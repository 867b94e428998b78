"""Aster futures request signing: HMAC (v1, Binance-identical) or the v3 API-wallet scheme.

HMAC: Aster "Futures API (V1, legacy) > SIGNED Endpoint Examples" is Binance's scheme word for
word (same worked example), so :class:`HmacSigner` from the shared base is used as is.

v3 API wallet (Aster "Futures API v3 > Authentication signature payload" and "Example of POST
/fapi/v3/order", asterdex/api-docs ``V3(Recommended)/EN/aster-finance-futures-api-v3.md``):

1. the request parameters plus ``user`` (main wallet), ``signer`` (API wallet) and ``nonce``
   (current time in microseconds; the venue keeps the last 100 per user and refuses reuse or
   anything more than 10 s away from its clock) are form-encoded into ``key=value&...``; we
   sort the keys (ASCII), which the venue accepts because it verifies the string as sent;
2. that string is the ``msg`` field of an EIP-712 ``Message`` struct (``msg: string``) in the
   domain ``{name: "AsterSignTransaction", version: "1", chainId: 1666, verifyingContract:
   0x0000000000000000000000000000000000000000}``;
3. the typed data is signed with the API wallet's private key; the 65-byte signature is sent
   hex-encoded as the last parameter, ``signature``.

The venue (and our fake) recovers the address from the signature and checks it is the
``signer`` registered for ``user``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from core.redaction import Secret
from exchange_clients.binance_style.signing import Params
from exchange_clients.evm_signing import EvmKey, domain_separator, typed_data_digest

CHAIN_ID = 1666
DOMAIN: dict[str, Any] = {
    "name": "AsterSignTransaction",
    "version": "1",
    "chainId": CHAIN_ID,
    "verifyingContract": "0x0000000000000000000000000000000000000000",
}
TYPES: dict[str, Any] = {"Message": [{"name": "msg", "type": "string"}]}


def typed_message(msg: str) -> Any:
    """The EIP-712 signable message for ``msg`` (the encoded parameter string)."""
    return encode_typed_data(domain_data=DOMAIN, message_types=TYPES, message_data={"msg": msg})


_MESSAGE_TYPE_HASH = bytes(keccak(b"Message(string msg)"))
_DOMAIN_SEPARATOR = domain_separator(
    DOMAIN["name"], DOMAIN["version"], CHAIN_ID, DOMAIN["verifyingContract"]
)


def message_digest(msg: str) -> bytes:
    """The EIP-712 digest of ``Message{msg}`` (the same as encoding :func:`typed_message`)."""
    return typed_data_digest(
        _DOMAIN_SEPARATOR, bytes(keccak(_MESSAGE_TYPE_HASH + bytes(keccak(msg.encode()))))
    )


def sign_message(msg: str, private_key: Secret | EvmKey) -> str:
    """``0x``-prefixed hex signature of ``msg`` by the API wallet."""
    key = private_key if isinstance(private_key, EvmKey) else EvmKey(private_key.reveal())
    return "0x" + key.sign_digest_bytes(message_digest(msg)).hex()


def recover_signer(msg: str, signature: str) -> str:
    """The checksummed address that signed ``msg`` (what the venue compares with ``signer``)."""
    return str(Account.recover_message(typed_message(msg), signature=signature))


def v3_payload(params: Sequence[tuple[str, str]], user: str, signer: str, nonce: int) -> str:
    """The string that is signed, and sent (followed by ``&signature=...``)."""
    pairs = [*params, ("nonce", str(nonce)), ("signer", signer), ("user", user)]
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


class NonceSource:
    """Microsecond nonces, strictly increasing even when the clock repeats or steps back."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now_ms: int) -> int:
        """``now_ms`` (our clock plus the venue offset) in microseconds, never repeating."""
        with self._lock:
            micros = now_ms * 1000 + (time.time_ns() // 1000) % 1000
            self._last = max(micros, self._last + 1)
            return self._last


class ApiWalletSigner:
    """Aster v3: ``user`` + ``signer`` addresses and the signer's private key."""

    def __init__(self, user: str, signer: str, private_key: Secret) -> None:
        self.user = user
        self.signer = signer
        self._key = EvmKey(private_key.reveal())
        self._nonces = NonceSource()

    def __repr__(self) -> str:
        return f"ApiWalletSigner(user={self.user!r}, signer={self.signer!r})"

    def sign(self, params: Params, now_ms: int) -> tuple[str, dict[str, str]]:
        payload = v3_payload(params, self.user, self.signer, self._nonces.next(now_ms))
        return f"{payload}&signature={sign_message(payload, self._key)}", {}

    def sign_stream(self, params: Params, now_ms: int) -> tuple[str, dict[str, str]]:
        return self.sign(params, now_ms)


__all__ = ["ApiWalletSigner", "recover_signer", "sign_message", "v3_payload"]
