"""What every native venue client shares: the lifecycle, the market cache, the client-id guard,
publish-once bookkeeping, ``order_status`` and the post-reconnect resync (:mod:`.base`); the
timestamp-signed REST session and client of Backpack and the Binance-style venues (:mod:`.rest`);
the one-WebSocket client of Hyperliquid and Lighter (:mod:`.streaming`); and the wire scalars and
fill formats (:mod:`.wire`). A venue package supplies only its REST/WS primitives and its wire
mapping."""
