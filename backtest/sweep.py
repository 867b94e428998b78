"""Parameter sweeps (grid or random), run in parallel processes, and walk-forward splits.

``--param NAME=V1,V2,...`` names a strategy parameter (``strategy.params.NAME``) and the
values to try; a grid sweep runs every combination, a random one ``--samples`` of them drawn
with ``--seed`` (without repetition). Each set is validated by the strategy's own parameter
model before anything runs, so a typo fails at once, naming the parameter.

Walk-forward (``--walk-forward K``): the period is cut into ``K + 1`` equal windows; for
``k = 1..K`` every set runs on window ``k`` (in-sample), the best by ``--rank-by`` is then run
on window ``k + 1`` (out-of-sample). The table shows both, so over-fitting shows as the gap.

Every run is one :func:`backtest.run.run_backtest` in a worker process (``--processes``);
results are returned to the parent, which ranks, prints and stores them.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from backtest.result import BacktestResult
from backtest.run import run_backtest
from backtest.settings import BacktestSettings
from backtest.sources.load import load_dataset
from core.errors import ConfigError
from core.suggestions import did_you_mean
from trading_config.schema import BotConfig
from trading_config.strategy_params import strategy_params_schema

RANK_METRICS = ("net_pnl", "total_return", "sharpe", "sortino", "profit_factor", "win_rate")
ParamSet = dict[str, str]


def parse_param(text: str) -> tuple[str, list[str]]:
    name, sep, values = text.partition("=")
    options = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not name.strip() or not options:
        raise ConfigError(f"--param {text!r}: expected NAME=V1,V2,... (e.g. take_profit=0.4,0.6)")
    return name.strip(), options


def parameter_sets(
    grid: dict[str, list[str]], mode: str, samples: int | None, seed: int
) -> list[ParamSet]:
    names = sorted(grid)
    every = [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(grid[n] for n in names))
    ]
    if mode == "grid":
        return every
    count = min(samples or len(every), len(every))
    return random.Random(seed).sample(every, count)  # noqa: S311 - choosing sets, not secrets


def with_params(config: BotConfig, params: ParamSet) -> BotConfig:
    """``config`` with ``strategy.params`` overridden, checked by the strategy's model."""
    if not params:
        return config
    schema = strategy_params_schema(config.strategy.type)
    current = config.strategy.params.model_dump(mode="json", exclude_unset=True)
    try:
        new = schema.model_validate({**current, **params})
    except ValidationError as exc:
        known = sorted(schema.model_fields)
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden":
                problems.append(
                    f"{where}: not a parameter of {config.strategy.type}"
                    f"{did_you_mean(where, known)} (its parameters: {', '.join(known)})"
                )
            else:
                problems.append(f"{where}: {error['msg']}")
        given = ", ".join(f"{name}={value}" for name, value in params.items())
        raise ConfigError(f"--param {given}: {'; '.join(problems)}") from None
    return config.model_copy(
        update={"strategy": config.strategy.model_copy(update={"params": new})}
    )


@dataclass(frozen=True)
class Job:
    config: BotConfig
    settings: BacktestSettings
    params: ParamSet
    split: str | None = None


def _run_job(job: Job) -> tuple[Job, BacktestResult]:
    """One run in a worker process (logging is quiet there: the parent reports)."""
    import strategies  # noqa: F401 - registers the strategy models in this process
    from core.logging_setup import configure_logging

    configure_logging("ERROR")

    async def run() -> BacktestResult:
        config = with_params(job.config, job.params)
        dataset = await load_dataset(
            job.settings.data,
            list(config.exchanges),
            None,
            job.settings.start,
            job.settings.end,
            job.settings.book,
        )
        return await run_backtest(config, job.settings, dataset)

    return job, asyncio.run(run())


def run_jobs(
    jobs: Sequence[Job], processes: int, done: Callable[[int, int], None] | None = None
) -> list[tuple[Job, BacktestResult]]:
    """Every job, in ``processes`` worker processes; results in the order of ``jobs``."""
    results: dict[int, tuple[Job, BacktestResult]] = {}
    with ProcessPoolExecutor(max_workers=max(1, processes)) as pool:
        futures = {pool.submit(_run_job, job): n for n, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if done is not None:
                done(len(results), len(jobs))
    return [results[n] for n in range(len(jobs))]


def score(result: BacktestResult, metric: str) -> float:
    """Higher is better; a metric that could not be computed ranks last."""
    value = result.metrics().get(metric)
    return float("-inf") if value is None else float(value)


def ranked(
    outcomes: Sequence[tuple[Job, BacktestResult]], metric: str
) -> list[tuple[Job, BacktestResult]]:
    """Best first by ``metric``; ties keep the order the sets were given in."""
    order = sorted(range(len(outcomes)), key=lambda n: (-score(outcomes[n][1], metric), n))
    return [outcomes[n] for n in order]


def windows(start: datetime, end: datetime, parts: int) -> Iterator[tuple[datetime, datetime]]:
    span = (end - start) / parts
    for k in range(parts):
        yield start + span * k, end if k == parts - 1 else start + span * (k + 1)


def walk_forward_jobs(
    config: BotConfig,
    settings: BacktestSettings,
    sets: Sequence[ParamSet],
    splits: int,
    start: datetime,
    end: datetime,
) -> list[list[Job]]:
    """The in-sample jobs of each split (all sets on window k)."""
    cuts = list(windows(start, end, splits + 1))
    return [
        [
            Job(
                config,
                replace(settings, start=cuts[k][0], end=cuts[k][1]),
                params,
                f"train {k + 1}",
            )
            for params in sets
        ]
        for k in range(splits)
    ]


def out_of_sample_job(
    config: BotConfig,
    settings: BacktestSettings,
    best: ParamSet,
    k: int,
    splits: int,
    start: datetime,
    end: datetime,
) -> Job:
    cuts = list(windows(start, end, splits + 1))
    window = cuts[k + 1]
    return Job(config, replace(settings, start=window[0], end=window[1]), best, f"test {k + 1}")


def table(rows: Sequence[tuple[Job, BacktestResult]], metric: str) -> str:
    """A fixed-width ranked table (best first), one line per run."""
    header = (
        f"{'#':>3}  {'split':<8}  {'net_pnl':>12}  {'return':>8}  {'sharpe':>7}  "
        f"{'max_dd':>10}  {'trades':>6}  params"
    )
    lines = [header]
    for n, (job, result) in enumerate(rows, start=1):
        m: dict[str, Any] = result.metrics()
        ret = m.get("total_return")
        sharpe = m.get("sharpe")
        extra = ""
        if metric not in ("net_pnl", "total_return", "sharpe"):
            value = m.get(metric)
            extra = f"{metric}={'-' if value is None else f'{float(value):.3f}'}  "
        params = " ".join(f"{k}={v}" for k, v in sorted(job.params.items())) or "(config)"
        lines.append(
            f"{n:>3}  {job.split or '-':<8}  {float(m.get('net_pnl', 0)):>12.4f}  "
            f"{'-' if ret is None else f'{ret * 100:.2f}%':>8}  "
            f"{'-' if sharpe is None else f'{sharpe:.2f}':>7}  "
            f"{float(m.get('max_drawdown', 0)):>10.4f}  {m.get('trades', 0):>6}  {extra}{params}"
        )
    return "\n".join(lines)
