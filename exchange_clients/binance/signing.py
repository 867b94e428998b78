"""Binance USD-M request signing: HMAC-SHA256 over the total parameters.

Binance "USDS-Margined Futures > General Info > SIGNED (TRADE and USER_DATA) Endpoint
Security": ``signature`` = hex HMAC-SHA256(secret, totalParams), where totalParams is the query
string concatenated with the request body; ``timestamp`` (ms) is mandatory, ``recvWindow``
optional (we send 5000); the key travels in the ``X-MBX-APIKEY`` header. The published example
(key ``dbefbc80...``, secret ``2b5eb11e...``) is the test vector in
tests/exchange_clients/binance/test_signing.py.
"""

from exchange_clients.binance_style.signing import API_KEY_HEADER, HmacSigner, hmac_sha256_hex

__all__ = ["API_KEY_HEADER", "HmacSigner", "hmac_sha256_hex"]
