"""``python -m backtest.record``: a synthetic session recorded to a file, in seconds, offline.

The seeded synthetic market (:mod:`exchange_clients.market_data.synthetic`) of one paper
venue is sampled on the simulated clock and written with :class:`FeedRecorder` - the same
file a recorder beside a live feed writes - so the backtest example needs no network and no
waiting: ``python -m backtest.record --venue paper --from 2026-01-01 --hours 2
--out var/paper.jsonl.gz``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from backtest.cli import EXIT_OK, EXIT_USER_ERROR, _count, _positive, _time
from backtest.clock import SimulatedClock
from backtest.run import drive
from core.venues import VENUES
from exchange_clients.market_data.recording import record
from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m backtest.record",
        description="Record the seeded synthetic market of a paper venue to a FeedRecorder file.",
    )
    parser.add_argument("--venue", default="paper", help="a paper venue (paper, paper_a, paper_b)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--symbols", default="BTC", help="comma-separated (default BTC)")
    parser.add_argument("--from", dest="start", type=_time, required=True)
    parser.add_argument("--hours", type=_positive, required=True)
    parser.add_argument("--step-seconds", type=_positive, default=1.0, help="book sampling")
    parser.add_argument("--levels", type=_count, default=20, help="book levels a side")
    parser.add_argument("--out", type=Path, required=True, help="the .jsonl.gz file to write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    venue = VENUES.get(args.venue)
    if venue is None or venue.kind != "paper":
        sys.stderr.write(
            f"--venue {args.venue!r}: expected a paper venue (paper, paper_a, paper_b)\n"
        )
        return EXIT_USER_ERROR
    wanted = [s.strip() for s in args.symbols.split(",") if s.strip()]
    models = [m for m in DEFAULT_SYMBOLS if m.symbol in wanted]
    unknown = sorted(set(wanted) - {m.symbol for m in models})
    if unknown or not models:
        known = ", ".join(m.symbol for m in DEFAULT_SYMBOLS)
        sys.stderr.write(
            f"--symbols: unknown {', '.join(unknown) or '(none)'}: expected some of {known}\n"
        )
        return EXIT_USER_ERROR
    if args.out.name.endswith(".jsonl.gz") is False:
        sys.stderr.write(f"--out {args.out}: recordings are .jsonl.gz files\n")
        return EXIT_USER_ERROR
    args.out.parent.mkdir(parents=True, exist_ok=True)

    async def run() -> int:
        clock = SimulatedClock(args.start)
        market = SyntheticMarket(args.seed, venue=args.venue, symbols=models, levels=args.levels)
        feed = SyntheticFeed(market, clock, step_seconds=args.step_seconds)
        count: int = await drive(
            clock, record(feed, args.out, duration=args.hours * 3600, clock=clock)
        )
        return count

    count = asyncio.run(run())
    sys.stdout.write(
        f"{args.out}: {count} events, {args.venue} {','.join(wanted)} from "
        f"{args.start.isoformat()} for {args.hours:g} h\n"
    )
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
