"""Command handlers, one module per area (basics, bots, trading, lifecycle, admin, market)."""
