"""Lighter transaction and auth-token signing through the SDK's native signer (ctypes).

Lighter signs with its own scheme (Schnorr over a Goldilocks-field curve with Poseidon2
hashing); the ``lighter-sdk`` package ships it as a Go library,
``lighter/signers/lighter-signer-<os>-<arch>.so``. We load that library directly and bind the
few C functions we use, with the argument order of the SDK's ``signer_client.py`` (which loads
it the same way); nothing of the SDK's HTTP/WS code is imported or run. ``CreateClient``
registers a key inside the library under (api_key_index, account_index); its URL argument is
stored, not contacted (no I/O).

Measured on this machine (2 shared cores, median of 300 calls): ``SignCreateOrder`` 1.05 ms idle
/ 1.9 ms under load, ``SignCancelOrder`` ~2.4 ms and ``CreateAuthToken`` 0.9-1.8 ms: twenty to
fifty times the ~50 us an event loop can afford, so :class:`LighterSigner`'s async methods run
every call in a worker thread (``asyncio.to_thread``; ctypes releases the GIL meanwhile).

What is deterministic (tests/exchange_clients/lighter/test_signing.py pins it): for fixed inputs
``tx_info`` carries exactly the order fields; ``ExpiredAt`` is the signer's own clock + 599 s
(transactions expire after 10 minutes); ``tx_hash`` depends only on the fields and
``ExpiredAt``; ``Sig`` is randomised (two signings with the same ``ExpiredAt`` share the hash and
differ in the signature).
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import importlib.util
import json
import platform
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import AuthenticationFailed, ExchangeError
from core.redaction import Secret
from exchange_clients.lighter.wire import VENUE

_LIBRARIES = {
    ("Linux", "x86_64"): "lighter-signer-linux-amd64.so",
    ("Linux", "amd64"): "lighter-signer-linux-amd64.so",
    ("Linux", "aarch64"): "lighter-signer-linux-arm64.so",
    ("Linux", "arm64"): "lighter-signer-linux-arm64.so",
    ("Darwin", "arm64"): "lighter-signer-darwin-arm64.dylib",
    ("Darwin", "x86_64"): "lighter-signer-darwin-amd64.dylib",
}

_LL, _INT, _U8 = ctypes.c_longlong, ctypes.c_int, ctypes.c_uint8


class _StrOrErr(ctypes.Structure):
    _fields_ = [("str", ctypes.c_void_p), ("err", ctypes.c_void_p)]


class _SignedTx(ctypes.Structure):
    _fields_ = [
        ("txType", ctypes.c_uint8),
        ("txInfo", ctypes.c_void_p),
        ("txHash", ctypes.c_void_p),
        ("messageToSign", ctypes.c_void_p),
        ("err", ctypes.c_void_p),
    ]


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed transaction as ``sendTx`` takes it."""

    tx_type: int
    tx_info: str
    tx_hash: str

    @property
    def info(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.tx_info)
        return parsed


def library_path() -> Path:
    """The signer library inside the installed ``lighter`` package (not imported)."""
    spec = importlib.util.find_spec("lighter")
    if spec is None or spec.origin is None:
        raise ExchangeError("the lighter-sdk package is not installed", venue=VENUE)
    name = _LIBRARIES.get((platform.system(), platform.machine().lower()))
    if name is None:
        raise ExchangeError(
            f"no Lighter signer for {platform.system()}/{platform.machine()}", venue=VENUE
        )
    return Path(spec.origin).parent / "signers" / name


_lib: ctypes.CDLL | None = None
_lib_lock = threading.Lock()
# The library keeps ONE key per (api_key_index, account_index) for the whole process: a second,
# different key for the same pair would silently replace the first client's key.
_registered: dict[tuple[int, int], str] = {}


def _library() -> ctypes.CDLL:
    global _lib
    with _lib_lock:
        if _lib is None:
            lib = ctypes.CDLL(str(library_path()))
            lib.Free.argtypes = [ctypes.c_void_p]
            lib.Free.restype = None
            lib.CreateClient.argtypes = [ctypes.c_char_p, ctypes.c_char_p, _INT, _INT, _LL]
            lib.CreateClient.restype = ctypes.c_void_p
            lib.SignCreateOrder.argtypes = [_LL, _LL, _LL, _INT, _INT, _INT, _INT, _INT, _INT]
            lib.SignCreateOrder.argtypes += [_LL, _LL, _INT, _INT, _U8, _U8, _U8, _LL, _INT, _LL]
            lib.SignCreateOrder.restype = _SignedTx
            lib.SignCancelOrder.argtypes = [_LL, _LL, _U8, _LL, _INT, _LL]
            lib.SignCancelOrder.restype = _SignedTx
            lib.SignUpdateLeverage.argtypes = [_LL, _INT, _INT, _U8, _LL, _INT, _LL]
            lib.SignUpdateLeverage.restype = _SignedTx
            lib.CreateAuthToken.argtypes = [_LL, _INT, _LL]
            lib.CreateAuthToken.restype = _StrOrErr
            _lib = lib
        return _lib


def _take(lib: ctypes.CDLL, pointer: int | None) -> str | None:
    """Read a C string the library allocated and free it with the library's own ``Free``."""
    if not pointer:
        return None
    try:
        value = ctypes.cast(pointer, ctypes.c_char_p).value
        return value.decode() if value is not None else None
    finally:
        lib.Free(pointer)


def _signed(lib: ctypes.CDLL, result: _SignedTx, what: str) -> SignedTx:
    error = _take(lib, result.err)
    info = _take(lib, result.txInfo)
    tx_hash = _take(lib, result.txHash)
    _take(lib, result.messageToSign)
    if error is not None or info is None:
        raise ExchangeError(f"signing {what} failed: {error}", venue=VENUE)
    return SignedTx(int(result.txType), info, tx_hash or "")


class LighterSigner:
    """One API key of one account, registered in the native signer."""

    def __init__(
        self, private_key: Secret, *, account_index: int, api_key_index: int, chain_id: int
    ) -> None:
        self.account_index = account_index
        self.api_key_index = api_key_index
        self.chain_id = chain_id
        self._lib = _library()
        key = private_key.reveal().strip()
        key = key[2:] if key.lower().startswith("0x") else key
        fingerprint = hashlib.sha256(key.lower().encode()).hexdigest()
        pair = (api_key_index, account_index)
        with _lib_lock:
            if _registered.get(pair, fingerprint) != fingerprint:
                raise AuthenticationFailed(
                    f"another api_key_private_key is already in use in this process for "
                    f"account {account_index}, API key {api_key_index} (one key per index)",
                    venue=VENUE,
                )
        error = _take(
            self._lib,
            self._lib.CreateClient(
                b"http://127.0.0.1", key.encode(), chain_id, api_key_index, account_index
            ),
        )
        if error is not None:
            # The library's message may quote a character of the key: never pass it on.
            raise AuthenticationFailed(
                "api_key_private_key is not a valid Lighter API private key "
                "(expected the 40-byte hex key Lighter generated for this API key index)",
                venue=VENUE,
            )
        with _lib_lock:
            _registered[pair] = fingerprint

    # --- synchronous calls (each ~1 ms: the async wrappers below run them in a thread) ------

    def sign_create_order_sync(
        self,
        *,
        market_index: int,
        client_order_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        order_type: int,
        time_in_force: int,
        reduce_only: bool,
        order_expiry: int,
        nonce: int,
        trigger_price: int = 0,
    ) -> SignedTx:
        result = self._lib.SignCreateOrder(
            market_index,
            client_order_index,
            base_amount,
            price,
            int(is_ask),
            order_type,
            time_in_force,
            int(reduce_only),
            trigger_price,
            order_expiry,
            0,  # integrator account index: none
            0,  # integrator taker fee
            0,  # integrator maker fee
            0,  # self-trade behaviour: expire maker (venue default)
            0,  # self-trade equality: account index
            0,  # skip nonce: off (strict nonce + 1)
            nonce,
            self.api_key_index,
            self.account_index,
        )
        return _signed(self._lib, result, "create order")

    def sign_cancel_order_sync(
        self, *, market_index: int, order_index: int, nonce: int
    ) -> SignedTx:
        result = self._lib.SignCancelOrder(
            market_index, order_index, 0, nonce, self.api_key_index, self.account_index
        )
        return _signed(self._lib, result, "cancel order")

    def sign_update_leverage_sync(
        self, *, market_index: int, initial_margin_fraction: int, margin_mode: int, nonce: int
    ) -> SignedTx:
        result = self._lib.SignUpdateLeverage(
            market_index,
            initial_margin_fraction,
            margin_mode,
            0,
            nonce,
            self.api_key_index,
            self.account_index,
        )
        return _signed(self._lib, result, "update leverage")

    def create_auth_token_sync(self, deadline: int) -> str:
        """An auth token valid until ``deadline`` (unix seconds; the venue allows <= 8 h)."""
        result = self._lib.CreateAuthToken(deadline, self.api_key_index, self.account_index)
        token = _take(self._lib, result.str)
        error = _take(self._lib, result.err)
        if error is not None or token is None:
            raise ExchangeError(f"creating an auth token failed: {error}", venue=VENUE)
        return token

    # --- async wrappers --------------------------------------------------------------------

    async def sign_create_order(self, **fields: Any) -> SignedTx:
        return await asyncio.to_thread(lambda: self.sign_create_order_sync(**fields))

    async def sign_cancel_order(
        self, *, market_index: int, order_index: int, nonce: int
    ) -> SignedTx:
        return await asyncio.to_thread(
            self.sign_cancel_order_sync,
            market_index=market_index,
            order_index=order_index,
            nonce=nonce,
        )

    async def sign_update_leverage(
        self, *, market_index: int, initial_margin_fraction: int, nonce: int
    ) -> SignedTx:
        return await asyncio.to_thread(
            lambda: self.sign_update_leverage_sync(
                market_index=market_index,
                initial_margin_fraction=initial_margin_fraction,
                margin_mode=0,
                nonce=nonce,
            )
        )

    async def create_auth_token(self, deadline: int) -> str:
        return await asyncio.to_thread(self.create_auth_token_sync, deadline)
