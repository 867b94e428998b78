"""A recording's events are decoded once when they fit the budget: the replay reads them from
memory; a bigger recording is read from its file again, and either way gives the same events."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest.sources import recording
from backtest.sources.feed import DataError
from backtest.sources.recording import load_recording
from exchange_clients.market_data.events import MarketEvent
from tests.backtest.helpers import record_session


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_session(tmp_path_factory.mktemp("data") / "paper.jsonl.gz", minutes=1)


def _copy(session: Path, folder: Path) -> Path:
    path = folder / session.name
    path.write_bytes(session.read_bytes())
    return path


def test_a_recording_within_the_budget_is_replayed_from_memory(
    session: Path, tmp_path: Path
) -> None:
    path = _copy(session, tmp_path)
    data = load_recording(path)
    first: list[MarketEvent] = list(data.events())
    path.unlink()  # not read again
    assert list(data.events()) == first
    assert len(first) > 100


def test_a_bigger_recording_is_read_again_with_the_same_events(
    session: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = list(load_recording(session).events())
    monkeypatch.setattr(recording, "KEPT_LEVELS", 50)
    path = _copy(session, tmp_path)
    data = load_recording(path)
    assert list(data.events()) == kept
    assert (data.first_ts, data.last_ts) == (kept[0].ts, kept[-1].ts)
    path.unlink()
    with pytest.raises(DataError, match="cannot read"):
        list(data.events())
