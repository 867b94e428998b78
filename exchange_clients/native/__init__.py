"""What every native venue client shares: the lifecycle, the market cache, the client-id guard,
publish-once bookkeeping and the post-reconnect resync (:mod:`.base`), and the wire scalars
(:mod:`.wire`). A venue package supplies only its REST/WS primitives and its wire mapping."""
