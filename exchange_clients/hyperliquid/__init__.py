"""Hyperliquid perpetuals (issue 7): signing, the price/size grid, wire mapping, cloids, funding,
the WebSocket stream and the client (registered as ``hyperliquid`` by :mod:`.client`)."""
