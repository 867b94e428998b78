"""Binance USD-M WebSocket endpoints and stream names.

"Websocket Market Streams": raw streams at ``/ws/<stream>``, combined at
``/stream?streams=a/b`` (events wrapped as ``{"stream", "data"}``), live
``{"method": "SUBSCRIBE", "params": [...], "id": n}``; diff depth ``<symbol>@depth@100ms``.
"User Data Streams": ``/ws/<listenKey>``. The depth and user streams themselves are the shared
Binance-style ones.
"""

from exchange_clients.binance_style.depth import DepthStream, depth_stream
from exchange_clients.binance_style.user_stream import UserStream

MAINNET_WS_URL = "wss://fstream.binance.com"
TESTNET_WS_URL = "wss://fstream.binancefuture.com"

__all__ = ["MAINNET_WS_URL", "TESTNET_WS_URL", "DepthStream", "UserStream", "depth_stream"]
