"""Garbage collection held off while a long-lived process starts, then its start-up heap frozen.

Importing a bot builds tens of thousands of objects (classes, dataclass methods, pydantic and
SQLAlchemy schemas) and almost none of them are garbage, yet every few hundred allocations
the cyclic collector walks them all again: about a sixth of a paper bot's start-up CPU
(bench/bot_footprint.py). A process entry point (``runbot.py``) calls :func:`hold` first;
once the process has started, :func:`release` collects once, moves what survived into the
permanent generation (:func:`gc.freeze`: later collections no longer walk the start-up
objects, which also shortens their pauses on the trading path) and turns collection back on.

:func:`release` does nothing where :func:`hold` was not called (a test that runs a bot in its
own process keeps its collector as it was), so the runtime can always call it.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """No cyclic collection until :func:`release` (reference counting still frees objects)."""
    global _held
    _held = True
    gc.disable()


def release() -> None:
    """Start-up is over: one collection, freeze the survivors, collect as usual from now on."""
    global _held
    if not _held:
        return
    _held = False
    gc.collect()
    gc.freeze()
    gc.enable()
