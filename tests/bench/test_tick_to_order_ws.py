"""The WebSocket tick-to-order bench measures what it says: the fake venue in its own process
sends real depth frames, the bot's public source turns them into the paper venue's book, and
every signalling frame ends in an entry under a client order id committed ahead (a setup that
does not enter, or a stream update that signals, stops the bench)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import tick_to_order_ws
from database.migrate import upgrade


@pytest.mark.parametrize("stream", [True, False])
async def test_every_sample_is_a_frame_that_ended_in_an_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    await upgrade(url)
    monkeypatch.setattr(tick_to_order_ws, "SAMPLES", 3)
    paths, taken = await tick_to_order_ws.ws_bench(url, stream=stream)
    assert len(paths) == 3
    assert taken == 3  # the scalper's entries went out under ids committed ahead
    assert all(0 < path < 60 for path in paths)  # stamps of the same clock: sent, then placed
