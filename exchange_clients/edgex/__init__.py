"""EdgeX (V2 API): EIP-712 signed orders, HMAC-signed private calls, WebSocket books and account
events. Imported only when a config names ``edgex`` (see exchange_clients/factory.py)."""
