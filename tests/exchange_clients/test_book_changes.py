"""Book change counts: per symbol, waiters woken by a change of a symbol they watch only."""

from __future__ import annotations

import asyncio

from exchange_clients.book_changes import BookChanges


def test_versions_grow_per_symbol_and_sum_over_the_watched_ones() -> None:
    changes = BookChanges()
    assert changes.version(["BTC", "ETH"]) == 0
    changes.changed("BTC")
    changes.changed("BTC")
    changes.changed("SOL")
    assert changes.version(["BTC"]) == 2
    assert changes.version(["BTC", "ETH"]) == 2
    assert changes.version(["ETH"]) == 0


async def test_a_wait_returns_at_once_when_a_change_came_after_the_version_read() -> None:
    changes = BookChanges()
    seen = changes.version(["BTC"])
    changes.changed("BTC")
    await asyncio.wait_for(changes.next_change(["BTC"], seen), 1)


async def test_a_wait_ends_on_a_change_of_a_watched_symbol_only() -> None:
    changes = BookChanges()
    waiter = changes.next_change(["BTC", "ETH"], changes.version(["BTC", "ETH"]))
    await asyncio.sleep(0)
    changes.changed("SOL")
    await asyncio.sleep(0)
    assert not waiter.done()
    changes.changed("ETH")
    await asyncio.wait_for(waiter, 1)


async def test_a_cancelled_wait_is_dropped_and_the_others_still_wake() -> None:
    changes = BookChanges()
    gone = changes.next_change(["BTC"], 0)
    kept = changes.next_change(["BTC"], 0)
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    changes.changed("BTC")
    await asyncio.wait_for(kept, 1)
    assert gone.cancelled()
