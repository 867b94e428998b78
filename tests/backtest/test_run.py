"""The run's own settings of the process: the garbage collector tuned for a run, then restored;
the journal's writes committed together at the loop's quiet points."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import strategies  # noqa: F401 - registers the strategies' parameters
from backtest.run import YOUNG_COLLECTION_THRESHOLD, _collector_tuned, run_backtest
from backtest.settings import BacktestSettings
from backtest.sources.funding import BookShape
from backtest.sources.load import load_dataset
from execution.group_commit import QuietPointCommitter, _Job
from tests.backtest.helpers import write_config
from trading_config.loader import load_config

START = datetime(2026, 1, 1, tzinfo=UTC)
CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.fixture
def collector() -> Iterator[tuple[int, ...]]:
    """The test's own default thresholds and nothing frozen, restored afterwards."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        yield gc.get_threshold()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_run_freezes_what_exists_and_collects_young_objects_less_often(
    collector: tuple[int, ...],
) -> None:
    with _collector_tuned():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *collector[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == collector


def test_overlapping_runs_restore_the_collector_when_the_last_ends(
    collector: tuple[int, ...],
) -> None:
    first, second = _collector_tuned(), _collector_tuned()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to begin ends first: the other still runs
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
    assert gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0


def test_a_callers_own_freeze_and_higher_threshold_are_kept(
    collector: tuple[int, ...],
) -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    gc.set_threshold(50_000, 10, 10)
    seen: list[int] = []

    def failing_run() -> None:
        with _collector_tuned():
            seen.append(gc.get_threshold()[0])
            raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError):  # restored on the way out of a failure
        failing_run()
    assert seen == [50_000]
    # Still frozen (an unfreeze empties it, a second freeze would add everything since);
    # frozen objects freed meanwhile leave it, so the count may only have dropped a little.
    assert frozen - 1_000 < gc.get_freeze_count() <= frozen
    assert gc.get_threshold() == (50_000, 10, 10)


async def test_run_backtest_runs_with_the_collector_tuned(collector: tuple[int, ...]) -> None:
    config = load_config(CONFIGS / "paper_grid.yml")
    settings = BacktestSettings(
        data=("synthetic:7",), start=START, end=START + timedelta(minutes=2)
    )
    dataset = await load_dataset(
        settings.data, list(config.exchanges), None, settings.start, settings.end, BookShape()
    )
    seen: list[int] = []
    result = await run_backtest(
        config, settings, dataset, progress=lambda _: seen.append(gc.get_threshold()[0])
    )
    assert result.counters["steps"] > 0
    assert seen
    assert set(seen) == {YOUNG_COLLECTION_THRESHOLD}
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0


async def test_the_journal_commits_what_each_quiet_point_finds_in_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders sent with latency and partly filled: the run ends, every write is committed at a
    quiet point (none left for the shutdown), and some transactions carry several writes."""
    batches: list[int] = []
    commit = QuietPointCommitter._commit

    async def counted(self: QuietPointCommitter, batch: list[_Job]) -> None:
        batches.append(len(batch))
        await commit(self, batch)

    monkeypatch.setattr(QuietPointCommitter, "_commit", counted)
    config = load_config(
        write_config(tmp_path / "l2.yml", "paper_l2_imbalance.yml", tickers=["BTC"])
    )
    settings = BacktestSettings(
        data=("synthetic:7",),
        start=START,
        end=START + timedelta(minutes=20),
        latency_seconds=0.2,
        fill_ratio=Decimal("0.5"),
    )
    dataset = await load_dataset(
        settings.data, list(config.exchanges), None, settings.start, settings.end, BookShape()
    )
    result = await run_backtest(config, settings, dataset)
    assert result.fills
    assert batches
    assert max(batches) > 1
