"""Run the benchmarks: ``python -m bench`` (``make bench``), or a subset with ``--only``.

Each benchmark is a module of this package with a ``main()``; they are imported only when
run, so ``--only order_book`` does not pay for the fleet's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

BENCHMARKS: dict[str, str] = {
    "config_and_secrets": "config loading and secret scrubbing",
    "market_data": "synthetic market generation and replay",
    "paper_venue": "paper venue matching",
    "order_book": "L2 order book ingest and queries",
    "venues": "venue signing cost and book ingest over the fakes",
    "live_feeds": "live public feeds: a venue depth message to a paper venue's book",
    "proxies": "REST through an account's proxy (SOCKS5, HTTP CONNECT) and failover time",
    "atomic": "atomic multi-leg executor",
    "funding_fees": "funding-arbitrage fees per round trip: maker vs market entries",
    "recovery": "recovery after a crash: a killed atomic close finished (p50/p99)",
    "tick_to_order": "book update to order sent, with the durable intent",
    "event_stream": "a paper fill to a control-API stream subscriber (p50/p99)",
    "bot_footprint": "one paper bot: start-up time and memory",
    "fleet": "a fleet of paper bots under supervisord",
    "funding_api": "funding-rate API: opportunities query over 8 venues x 200 symbols",
    "funding_service": "funding-rate collection cycle (8 x 200) and 1-year history queries",
    "signals": "signal portfolio tick: 3 market snapshots and 7 signal strategies on each",
    "dashboard": "web dashboard: overview first render (20 bots), fill-to-page p50/p99",
    "backtest": "backtests: funding year (8 venues x 50 symbols), 64-set grid sweep 1 vs 2 procs",
    "backtest_engines": "backtest updates/s: ours vs nautilus_trader and hftbacktest, same L2 day",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="perpfleet's benchmarks: medians and ratios, with the machine noted.",
        epilog="benchmarks, in the order they run:\n"
        + "\n".join(f"  {name:<20} {what}" for name, what in BENCHMARKS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        choices=list(BENCHMARKS),
        help="run only this benchmark (repeatable); default: all",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    selected = args.only or list(BENCHMARKS)
    for name in BENCHMARKS:
        if name in selected:
            importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
