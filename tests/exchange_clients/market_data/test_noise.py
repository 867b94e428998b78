"""Counter-based randomness: pure, independent per stream, and calibrated as documented."""

from __future__ import annotations

import math
import statistics

import pytest

from exchange_clients.market_data.micros import DAY, HOUR, MINUTE, SECOND
from exchange_clients.market_data.noise import (
    RandomStream,
    ValueNoise,
    increment_variance,
    poisson,
    random_walk_octaves,
    stationary_octaves,
)


def test_a_stream_is_a_pure_function_of_seed_name_and_counters() -> None:
    first, again = RandomStream(7, "diffusion", "BTC"), RandomStream(7, "diffusion", "BTC")
    assert [first.uniforms(k, 3) for k in range(5)] == [again.uniforms(k, 3) for k in range(5)]
    others = (
        RandomStream(8, "diffusion", "BTC"),
        RandomStream(7, "diffusion", "ETH"),
        RandomStream(7, "diffusionBTC"),
    )
    for other in others:
        assert other.uniforms(0, 3) != first.uniforms(0, 3)
    assert first.uniforms(1, 0) != first.uniforms(0, 1)


def test_uniforms_and_normals_have_the_right_distribution() -> None:
    stream = RandomStream(1, "test")
    uniforms = [u for k in range(5000) for u in stream.uniforms(k)]
    assert all(0.0 <= u < 1.0 for u in uniforms)
    assert statistics.fmean(uniforms) == pytest.approx(0.5, abs=0.01)
    normals = [stream.normal(k, 1) for k in range(20000)]
    assert statistics.fmean(normals) == pytest.approx(0.0, abs=0.03)
    assert statistics.pstdev(normals) == pytest.approx(1.0, abs=0.03)


def test_poisson_has_the_requested_mean() -> None:
    stream = RandomStream(2, "test")
    counts = [poisson(3.5, stream.uniforms(k)[0]) for k in range(20000)]
    assert statistics.fmean(counts) == pytest.approx(3.5, abs=0.06)
    assert statistics.pvariance(counts) == pytest.approx(3.5, abs=0.15)


def test_random_walk_octaves_give_the_requested_increment_sd() -> None:
    octaves = random_walk_octaves(SECOND, 2**20 * SECOND, sd=0.03, horizon=DAY)
    assert math.sqrt(increment_variance(octaves, DAY)) == pytest.approx(0.03)
    # Random-walk scaling: the sd over an hour is ~ sqrt(1/24) of the daily one.
    hourly = math.sqrt(increment_variance(octaves, HOUR))
    assert hourly == pytest.approx(0.03 / math.sqrt(24), rel=0.05)

    noise = ValueNoise(RandomStream(3, "walk"), octaves)
    starts = [k * 7 * DAY + 12_345 * k for k in range(1500)]
    increments = [noise(t + DAY) - noise(t) for t in starts]
    assert statistics.pstdev(increments) == pytest.approx(0.03, rel=0.08)


def test_stationary_octaves_give_the_requested_sd() -> None:
    noise = ValueNoise(RandomStream(4, "level"), stationary_octaves(HOUR, 64 * HOUR, sd=2e-5))
    values = [noise(k * 1000 * HOUR + 7 * MINUTE * k) for k in range(3000)]
    assert statistics.fmean(values) == pytest.approx(0.0, abs=2e-6)
    assert statistics.pstdev(values) == pytest.approx(2e-5, rel=0.08)


def test_value_noise_is_continuous_and_independent_of_evaluation_order() -> None:
    octaves = random_walk_octaves(SECOND, 2**16 * SECOND, sd=0.01, horizon=HOUR)
    forward = ValueNoise(RandomStream(5, "x"), octaves)
    backward = ValueNoise(RandomStream(5, "x"), octaves)
    times = [k * 333_333 for k in range(2000)]
    values = [forward(t) for t in times]
    assert values == [backward(t) for t in reversed(times)][::-1]
    # A microsecond apart, the process moves by (much) less than a basis point.
    assert all(abs(forward(t + 1) - forward(t)) < 1e-6 for t in times)
