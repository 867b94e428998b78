"""Background tasks that are never lost silently: one supervisor per component.

A bare ``asyncio.create_task`` whose task dies leaves nothing behind but, at best, "Task
exception was never retrieved" at garbage collection: a fill stream reader that crashed means a
bot that no longer sees its fills, and nobody is told. A :class:`TaskSupervisor` owns the
background tasks of one component (a bot runtime, a venue client's streams, a tracker):

* every task it spawns keeps a strong reference (the event loop holds only weak ones);
* a task that ends with an exception is logged at once, with its name and traceback, and the
  component's ``on_failure`` is called so it can react (reconnect, stop, mark itself unhealthy);
* :meth:`TaskSupervisor.aclose` cancels what still runs and waits for it, so a component that
  stops leaves no task behind.

This is a supervisor rather than an :class:`asyncio.TaskGroup` on purpose: one failed helper
(say, a Telegram alert forwarder) must not cancel a bot's other work; the component decides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)

FailureHandler = Callable[[str, BaseException], None]
"""``on_failure(task_name, exception)``: called from the event loop; must not block."""


class TaskSupervisor:
    """Spawns, watches and closes the background tasks of one component."""

    def __init__(self, component: str, on_failure: FailureHandler | None = None) -> None:
        self.component = component
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures: list[tuple[str, BaseException]] = []
        self._closed = False

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``work`` in the background under ``name`` (used in logs and failure reports)."""
        if self._closed:
            work.close()
            raise RuntimeError(f"{self.component}: cannot start {name!r}, the supervisor is closed")
        task = asyncio.create_task(work, name=f"{self.component}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    @property
    def running(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        name = task.get_name().removeprefix(f"{self.component}:")
        self.failures.append((name, error))
        log.error(
            "background task failed",
            component=self.component,
            task=name,
            exc_info=(type(error), error, error.__traceback__),
        )
        if self._on_failure is not None and not self._closed:
            try:
                self._on_failure(name, error)
            except Exception:
                log.exception("the failure handler itself failed", component=self.component)

    async def aclose(self) -> None:
        """Cancel every task still running and wait for all of them to end."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
