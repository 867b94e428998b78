"""A background task that dies is reported and handed to its component; none outlives it."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from core.tasks import TaskSupervisor


async def test_a_failing_task_is_logged_and_reported_to_the_component() -> None:
    seen: list[tuple[str, str]] = []
    tasks = TaskSupervisor("bot", on_failure=lambda name, exc: seen.append((name, str(exc))))

    async def reader() -> None:
        await asyncio.sleep(0)
        raise ConnectionError("stream closed")

    with capture_logs() as logs:
        tasks.spawn(reader(), name="fills:paper")
        for _ in range(5):
            await asyncio.sleep(0)
    assert seen == [("fills:paper", "stream closed")]
    assert [e["task"] for e in logs if e["event"] == "background task failed"] == ["fills:paper"]
    assert [(name, type(exc)) for name, exc in tasks.failures] == [("fills:paper", ConnectionError)]
    await tasks.aclose()


async def test_close_cancels_and_awaits_what_still_runs() -> None:
    tasks = TaskSupervisor("bot")
    started = asyncio.Event()
    finished: list[str] = []

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            finished.append("cleaned up")

    tasks.spawn(forever(), name="heartbeat")
    await started.wait()
    assert tasks.running == 1
    await tasks.aclose()
    assert finished == ["cleaned up"]
    assert tasks.running == 0
    assert tasks.failures == []  # a cancellation is not a failure


async def test_a_closed_supervisor_refuses_new_work() -> None:
    tasks = TaskSupervisor("bot")
    await tasks.aclose()

    async def work() -> None:
        return None

    with pytest.raises(RuntimeError, match="supervisor is closed"):
        tasks.spawn(work(), name="late")


async def test_a_task_that_ends_normally_is_not_a_failure() -> None:
    seen: list[str] = []
    tasks = TaskSupervisor("bot", on_failure=lambda name, exc: seen.append(name))

    async def once() -> int:
        return 1

    task = tasks.spawn(once(), name="once")
    assert await task == 1
    await asyncio.sleep(0)
    assert seen == []
    await tasks.aclose()
