"""Backtests: the registered strategies, unchanged, on history (issue 18).

A run builds the same strategy context the bot runtime builds (journal, trackers, executors,
atomic executor, risk manager and pre-trade gate) around paper venues fed from recorded,
imported, stored or synthetic market data, and moves a simulated clock as fast as the
strategy, the venues and the journal let it. See :mod:`backtest.run`.
"""
