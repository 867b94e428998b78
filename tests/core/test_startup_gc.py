"""The start-up collector pause: held by the entry point, released once by the runtime."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from core import startup_gc
from core.paths import PROJECT_ROOT


@pytest.fixture
def restore_gc() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_release_without_hold_leaves_the_collector_alone(restore_gc: None) -> None:
    gc.unfreeze()
    startup_gc.release()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_hold_then_release_freezes_the_start_up_heap_once(restore_gc: None) -> None:
    gc.unfreeze()
    startup_gc.hold()
    assert not gc.isenabled()
    startup_gc.release()
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    startup_gc.release()  # a second release is a no-op
    assert gc.get_freeze_count() == frozen


def test_runbot_holds_the_collector_until_the_runtime_releases_it() -> None:
    """runbot.py's entry point holds collection before importing the bot (--check never
    starts a runtime, so the collector is still held when it exits)."""
    probe = (
        "import gc, runpy, sys; sys.argv = ['runbot.py', '--help']\n"
        "try:\n"
        "    runpy.run_path('runbot.py', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(gc.isenabled())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
