"""``python -m backtest``: run a bot config on history, sweep its parameters, walk forward.

One run::

    python -m backtest --config configs/paper_grid.yml --data var/btc.jsonl.gz

writes ``result.json`` (canonical, hashed), ``report.html`` and ``equity.png`` to ``--out``
(default ``var/backtests/<bot>-<hash>``), stores the run in ``$DATABASE_URL`` (unless
``--no-store``) and prints the paths, the hash and the headline figures. ``--param`` turns it
into a sweep (ranked table on stdout), ``--walk-forward K`` into a walk-forward test.

Exit codes: 0 done; 2 a mistake in the input (config, data, flags), one line on stderr saying
which and what was expected; 1 the run or the database failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from core.errors import ConfigError, TradingError
from core.redaction import scrub

if TYPE_CHECKING:
    from backtest.result import BacktestResult
    from backtest.settings import BacktestSettings
    from database.repositories.backtest import NewRun
    from trading_config.schema import BotConfig

EXIT_OK, EXIT_FAILED, EXIT_USER_ERROR = 0, 1, 2
DATA_HELP = (
    "market data: a FeedRecorder file (*.jsonl.gz), a CSV import (*.csv: columns kind,ts,venue,"
    "symbol,side,price,size,sequence,rate,interval_hours; kinds trade, snapshot, delta, "
    "funding), funding-db[:URL] (the funding-rate service's history) or synthetic[:SEED]; "
    "repeat for several venues"
)


class UsageError(Exception):
    """A flag value the parser cannot express; exit 2 with its message."""


def _time(text: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected an ISO 8601 date or time, e.g. 2026-01-01 or 2026-01-01T06:00Z"
        ) from None
    if ts.tzinfo is None:
        if "T" in text or " " in text:
            raise argparse.ArgumentTypeError(f"{text!r} has no timezone: add Z or +00:00")
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number >= 1")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    from backtest.sweep import RANK_METRICS

    parser = argparse.ArgumentParser(
        prog="python -m backtest",
        description="Run a bot config's strategy, unchanged, on history: simulated venues "
        "(fees, funding, queue position, latency, partial fills, liquidation) and clock.",
    )
    parser.add_argument("--config", required=True, type=Path, help="the bot config (YAML)")
    parser.add_argument("--data", action="append", required=True, help=DATA_HELP)
    parser.add_argument("--from", dest="start", type=_time, help="start (default: the data's)")
    parser.add_argument("--to", dest="end", type=_time, help="end (default: the data's)")
    sim = parser.add_argument_group("simulation")
    sim.add_argument(
        "--step-seconds",
        type=_positive,
        help="step the strategy at most this often (default: its own loop period)",
    )
    sim.add_argument("--latency-ms", type=_non_negative, default=0.0, help="per venue request")
    sim.add_argument(
        "--fill-ratio", type=_decimal, help="market/IOC orders fill at most this fraction (0-1)"
    )
    sim.add_argument(
        "--initial-balance", type=_decimal, default=Decimal(10_000), help="USD per venue"
    )
    sim.add_argument(
        "--fee", action="append", default=[], help="VENUE=MAKER:TAKER fee override (fractions)"
    )
    sim.add_argument("--equity-seconds", type=_positive, default=60.0, help="equity sampling")
    sim.add_argument(
        "--synthetic-step-seconds", type=_positive, default=1.0, help="synthetic book sampling"
    )
    sim.add_argument(
        "--book-spread-bps", type=_decimal, default=Decimal(2), help="books drawn for funding data"
    )
    sim.add_argument(
        "--book-depth-usd", type=_decimal, default=Decimal(250_000), help="per drawn level"
    )
    sweep = parser.add_argument_group("sweeps and walk-forward")
    sweep.add_argument(
        "--param", action="append", default=[], help="NAME=V1,V2,... strategy parameter values"
    )
    sweep.add_argument("--sweep", choices=("grid", "random"), default="grid")
    sweep.add_argument("--samples", type=_count, help="random sweep: how many sets")
    sweep.add_argument("--seed", type=int, default=1, help="random sweep: sampling seed")
    sweep.add_argument("--processes", type=_count, default=os.cpu_count() or 1)
    sweep.add_argument("--rank-by", choices=RANK_METRICS, default="net_pnl")
    sweep.add_argument("--walk-forward", type=_count, metavar="K", help="K train/test splits")
    out = parser.add_argument_group("output")
    out.add_argument("--out", type=Path, help="folder for result.json, report.html, equity.png")
    out.add_argument("--no-store", action="store_true", help="do not store runs in the database")
    out.add_argument("--log-level", default="WARNING", help="perpfleet's log level (stderr)")
    return parser


def _settings(args: argparse.Namespace) -> BacktestSettings:
    from backtest.settings import BacktestSettings
    from backtest.sources.funding import BookShape
    from backtest.venues import parse_fee_override

    if args.fill_ratio is not None and not 0 < args.fill_ratio <= 1:
        raise UsageError(f"--fill-ratio {args.fill_ratio}: expected a fraction in (0, 1]")
    if args.initial_balance <= 0:
        raise UsageError(f"--initial-balance {args.initial_balance}: expected > 0")
    if args.book_spread_bps <= 0 or args.book_depth_usd <= 0:
        raise UsageError("--book-spread-bps and --book-depth-usd must be > 0")
    if args.samples is not None and args.sweep != "random":
        raise UsageError("--samples applies to --sweep random only")
    if args.walk_forward is not None and not args.param:
        raise UsageError("--walk-forward needs --param: it picks the best set on each window")
    fees = dict(parse_fee_override(text) for text in args.fee)
    return BacktestSettings(
        data=tuple(args.data),
        start=args.start,
        end=args.end,
        step_seconds=args.step_seconds,
        latency_seconds=args.latency_ms / 1000,
        fill_ratio=args.fill_ratio,
        initial_balance=args.initial_balance,
        fees=fees,
        equity_seconds=args.equity_seconds,
        synthetic_step_seconds=args.synthetic_step_seconds,
        book=BookShape(args.book_spread_bps, args.book_depth_usd),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from core.logging_setup import configure_logging

    try:
        configure_logging(args.log_level)
    except ValueError as exc:
        sys.stderr.write(f"--log-level: {exc}\n")
        return EXIT_USER_ERROR
    from backtest.run import BacktestError
    from backtest.sources.feed import DataError

    try:
        return asyncio.run(_main(args))
    except (ConfigError, UsageError, DataError, BacktestError) as exc:
        sys.stderr.write(scrub(str(exc)) + "\n")
        return EXIT_USER_ERROR
    except TradingError as exc:
        sys.stderr.write(scrub(f"backtest failed: {exc}") + "\n")
        return EXIT_FAILED
    except (SQLAlchemyError, OSError) as exc:
        sys.stderr.write(scrub(f"backtest failed: {type(exc).__name__}: {exc}") + "\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


async def _main(args: argparse.Namespace) -> int:
    import strategies  # noqa: F401 - registers every strategy's parameters
    from trading_config.loader import load_config

    if not args.config.is_file():
        raise UsageError(f"--config {args.config}: no such file")
    config = load_config(args.config)
    settings = _settings(args)
    if not args.no_store:  # before hours of simulation, not after
        from database.engine import database_url
        from database.schema_version import require_current_schema

        await require_current_schema(database_url())
    if args.param:
        return await _sweep(args, config, settings)
    return await _single(args, config, settings)


def _out_dir(args: argparse.Namespace, name: str, digest: str) -> Path:
    from core.paths import var_dir

    out: Path = (
        args.out if args.out is not None else var_dir() / "backtests" / f"{name}-{digest[:12]}"
    )
    out.mkdir(parents=True, exist_ok=True)
    return out


async def _store(args: argparse.Namespace, runs: list[NewRun]) -> list[int]:
    if args.no_store:
        return []
    from backtest.store import store_runs
    from database.engine import database_url

    return await store_runs(database_url(), runs)


async def _single(args: argparse.Namespace, config: BotConfig, settings: BacktestSettings) -> int:
    from backtest.progress import ProgressBar
    from backtest.report import write_report
    from backtest.result import result_hash
    from backtest.run import run_backtest
    from backtest.sources.load import load_dataset
    from backtest.store import new_run

    dataset = await load_dataset(
        settings.data, list(config.exchanges), None, settings.start, settings.end, settings.book
    )
    bar = ProgressBar(f"backtest {config.name}")
    result = await run_backtest(config, settings, dataset, progress=bar.update)
    bar.close()
    data = result.to_bytes()
    digest = result_hash(data)
    out = _out_dir(args, config.name, digest)
    (out / "result.json").write_bytes(data)
    html, png = await write_report(result, out, f"backtest {config.name}")
    ids = await _store(args, [new_run(result)])
    _print_summary(result, digest, out / "result.json", html, png, ids)
    return EXIT_OK


def _print_summary(
    result: BacktestResult, digest: str, path: Path, html: Path, png: Path, ids: list[int]
) -> None:
    m = result.metrics()
    lines = [
        f"result   {path}",
        f"sha256   {digest}",
        f"report   {html}",
        f"chart    {png}",
        f"period   {result.start.isoformat()} .. {result.end.isoformat()}",
        f"net PnL  {m['net_pnl']:.4f} (trading {m['trading_pnl']:.4f}, unrealized "
        f"{m['unrealized_pnl']:.4f}, fees -{m['fees']:.4f}, funding {m['funding']:.4f})",
        f"trades   {m['trades']} closed, {m['fills']} fills; max drawdown {m['max_drawdown']:.4f}",
    ]
    if result.stopped_by:
        lines.append(f"stopped  {result.stopped_by}")
    if ids:
        lines.append(f"stored   backtest_runs.id {ids[0]}")
    sys.stdout.write("\n".join(lines) + "\n")


async def _sweep(args: argparse.Namespace, config: BotConfig, settings: BacktestSettings) -> int:
    from backtest.progress import ProgressBar
    from backtest.report import write_report
    from backtest.result import canonical_json, result_hash
    from backtest.run import period
    from backtest.sources.load import load_dataset
    from backtest.store import new_run
    from backtest.sweep import (
        Job,
        out_of_sample_job,
        parameter_sets,
        parse_param,
        ranked,
        run_jobs,
        table,
        walk_forward_jobs,
        with_params,
    )

    grid = dict(parse_param(text) for text in args.param)
    sets = parameter_sets(grid, args.sweep, args.samples, args.seed)
    for params in sets:  # every set checked before anything runs
        with_params(config, params)
    # The period, and the data checked, once in the parent: workers load it again.
    dataset = await load_dataset(
        settings.data, list(config.exchanges), None, settings.start, settings.end, settings.book
    )
    start, end = period(settings, dataset)
    sweep_id = uuid.uuid4().hex[:12]
    bar = ProgressBar(f"sweep {config.name}")

    def done(finished: int, total: int) -> None:
        bar.update(finished / total, f"{finished}/{total} runs")

    rows: list[tuple[Job, BacktestResult]] = []
    if args.walk_forward is None:
        jobs = [Job(config, settings, params) for params in sets]
        outcomes = await asyncio.to_thread(run_jobs, jobs, args.processes, done)
        rows = ranked(outcomes, args.rank_by)
        report_rows = rows
    else:
        splits = args.walk_forward
        report_rows = []
        for k, train in enumerate(walk_forward_jobs(config, settings, sets, splits, start, end)):
            trained = ranked(
                await asyncio.to_thread(run_jobs, train, args.processes, done), args.rank_by
            )
            chosen = trained[0][0].params
            test = out_of_sample_job(config, settings, chosen, k, splits, start, end)
            tested = await asyncio.to_thread(run_jobs, [test], 1)
            rows += [trained[0], tested[0]]
            report_rows += trained + tested
    bar.close()
    best = (rows[-1] if args.walk_forward else rows[0])[1]
    digest = result_hash(best.to_bytes())
    out = _out_dir(args, config.name, f"sweep-{sweep_id}")
    (out / "best-result.json").write_bytes(best.to_bytes())
    summary = [
        {
            "split": job.split,
            "params": job.params,
            "sha256": result_hash(r.to_bytes()),
            "metrics": r.metrics(),
        }
        for job, r in rows
    ]
    (out / "sweep.json").write_bytes(
        canonical_json({"sweep": sweep_id, "rank_by": args.rank_by, "runs": summary})
    )
    html, png = await write_report(best, out, f"backtest {config.name} (best of sweep {sweep_id})")
    ids = await _store(
        args, [new_run(r, sweep=sweep_id, split=job.split) for job, r in report_rows]
    )
    sys.stdout.write(table(rows, args.rank_by) + "\n")
    sys.stdout.write(
        f"sweep    {sweep_id} ({len(report_rows)} runs, ranked by {args.rank_by})\n"
        f"table    {out / 'sweep.json'}\nreport   {html} (best: {digest[:12]})\nchart    {png}\n"
        + (f"stored   {len(ids)} runs in backtest_runs (sweep {sweep_id})\n" if ids else "")
    )
    return EXIT_OK
