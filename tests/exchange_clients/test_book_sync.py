"""A resync that dies is not lost: its book is invalidated, the failure logged, a resync retried.

Kept books (Binance-style, Aster, Backpack) are rebuilt from a REST snapshot after a gap by a
background task of :class:`SyncedBooks`. The failures it expects (the snapshot request fails)
it retries itself; anything else kills the task, and the supervisor's handler must leave the
book unservable until a new resync has rebuilt it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from structlog.testing import capture_logs

from exchange_clients.binance_style.websocket import apply_depth_update
from exchange_clients.book_sync import SyncedBooks

GUARD = 10.0  # guards a hang; not a speed assertion


async def eventually(condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110 - a condition on other tasks, polled
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), GUARD)


class Venue:
    """REST snapshots (the second one held until released) and a connection check that
    throws once when told to (a bug in the stream's state, say)."""

    def __init__(self) -> None:
        self.snapshots = 0
        self.release = asyncio.Event()
        self.throw_once = False

    async def snapshot(self, contract_id: str) -> Any:
        self.snapshots += 1
        if self.snapshots > 1:
            await self.release.wait()
        return {
            "lastUpdateId": 100 * self.snapshots,
            "bids": [["99.0", str(self.snapshots)]],
            "asks": [["101.0", "1"]],
        }

    def is_connected(self) -> bool:
        if self.throw_once:
            self.throw_once = False
            raise RuntimeError("connection state unreadable")
        return True


async def no_subscription(contract_id: str) -> None:
    return None


def gap_event() -> dict[str, Any]:
    return {"e": "depthUpdate", "U": 107, "u": 108, "pu": 106, "b": [], "a": []}


async def test_a_dead_resync_invalidates_its_book_and_is_started_again() -> None:
    venue = Venue()
    books = SyncedBooks(
        venue="test",
        snapshot=venue.snapshot,
        apply_delta=apply_depth_update,
        subscribe=no_subscription,
        is_connected=venue.is_connected,
    )
    books.resync_retry_seconds = 0
    book = await books.book("BTCUSDT")
    assert book is not None
    assert book.sequence == 100
    state = books.states["BTCUSDT"]
    try:
        with capture_logs() as logs:
            venue.throw_once = True
            books.on_delta("BTCUSDT", gap_event())  # a gap: the resync starts and dies at once
            await eventually(lambda: venue.snapshots == 2)  # the retry waits on its snapshot
        assert books.resync_failures == 1
        failed = [e for e in logs if e["event"] == "background task failed"]
        assert [(e["component"], e["task"]) for e in failed] == [("test-books", "resync:BTCUSDT")]
        assert [e["symbol"] for e in logs if e["event"] == "depth_resync_died"] == ["BTCUSDT"]
        # Meanwhile the book may not be served or updated.
        assert state.book.needs_resync
        assert not state.ready.is_set()
        venue.release.set()
        await eventually(state.ready.is_set)
        assert state.book.sequence == 200
        assert state.book.best_bid() == (Decimal("99.0"), Decimal(2))
        assert not state.book.needs_resync
    finally:
        venue.release.set()
        await books.stop()
    running = {t.get_name() for t in asyncio.all_tasks()}
    assert "test-books:resync:BTCUSDT" not in running
