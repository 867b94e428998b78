"""Aster futures WebSocket endpoints (Aster "Websocket Market Streams", "User Data Streams").

Same protocol as Binance USD-M: ``/ws/<stream>``, ``/stream?streams=``, live SUBSCRIBE,
``<symbol>@depth@100ms`` with ``U``/``u``/``pu``, user data at ``/ws/<listenKey>``.
"""

from exchange_clients.binance_style.depth import DepthStream, depth_stream
from exchange_clients.binance_style.user_stream import UserStream

MAINNET_WS_URL = "wss://fstream.asterdex.com"
TESTNET_WS_URL = "wss://fstream.asterdex-testnet.com"

__all__ = ["MAINNET_WS_URL", "TESTNET_WS_URL", "DepthStream", "UserStream", "depth_stream"]
