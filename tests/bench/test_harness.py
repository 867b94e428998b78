"""The bench harness's own figures."""

from __future__ import annotations

from bench.harness import percentiles, syscall_cost


def test_syscall_cost_times_a_warm_and_a_cold_call() -> None:
    warm, cold = syscall_cost(gap_seconds=0.001, rounds=11)
    # Both are real timings of a system call: positive, and far below the gap between them.
    assert 0 < warm < 0.001
    assert 0 < cold < 0.001


def test_percentiles_are_the_median_and_the_nearest_99th_sample() -> None:
    samples = [float(n) for n in range(1, 102)]  # 1 .. 101
    assert percentiles(samples) == (51.0, 100.0)
