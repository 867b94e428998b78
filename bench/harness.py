"""A tiny timing harness: repeated runs, medians, and a machine line.

Shared machines are noisy, so every figure is the median of many rounds and is
printed next to the core count; compare ratios, not absolute numbers.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{platform.system()} {platform.release()}"
    )


def median_seconds(work: Callable[[], object], rounds: int = 15, inner: int = 1) -> float:
    """Median wall time of one call of ``work`` over ``rounds`` rounds of ``inner`` calls."""
    work()  # warm-up: imports, caches
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(inner):
            work()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def report(name: str, seconds: float, note: str = "") -> None:
    figure = f"{seconds * 1e3:9.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:9.2f} us"
    sys.stdout.write(f"  {name:<52} {figure}  {note}\n")
