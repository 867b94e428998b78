"""Hyperliquid (issue 7): signing first; the client, its WebSocket and the fake come next."""
