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


def syscall_cost(gap_seconds: float = 0.01, rounds: int = 101) -> tuple[float, float]:
    """Median seconds of one trivial system call (``getppid``): back to back, and as the first
    call after ``gap_seconds`` of other work (a busy loop, no sleep).

    On bare metal both are well under a microsecond. In a virtual machine whose guest runs
    nested (this project's machines: Firecracker with nested paging) the first call after a
    few milliseconds costs tens of times more - the interrupts in between leave the
    translation caches cold - and so does every cold memory access. A tick-to-order path
    runs once per signal, cold, so its figures here carry that cost: this line says how much.
    """
    warm: list[float] = []
    cold: list[float] = []
    for _ in range(rounds):
        deadline = time.perf_counter() + gap_seconds
        while time.perf_counter() < deadline:
            pass
        start = time.perf_counter()
        os.getppid()
        middle = time.perf_counter()
        os.getppid()
        end = time.perf_counter()
        cold.append(middle - start)
        warm.append(end - middle)
    return statistics.median(warm), statistics.median(cold)


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


def percentiles(samples: list[float]) -> tuple[float, float]:
    """``(p50, p99)`` of ``samples`` (the p99 is the nearest observed sample)."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def report_percentiles(name: str, samples: list[float], note: str = "") -> None:
    """One line: ``name``, p50 and p99 in milliseconds, and a note (a target, a condition)."""
    p50, p99 = percentiles(samples)
    sys.stdout.write(f"  {name:<52} p50 {p50 * 1e3:7.3f} ms  p99 {p99 * 1e3:7.3f} ms  {note}\n")
