"""Where a backtest's market data comes from: recordings, CSV imports, the funding-rate
service's stored history, and the synthetic market (see :mod:`backtest.sources.load`)."""
