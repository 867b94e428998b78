"""Deterministic randomness that is a pure function of (seed, stream name, counters).

The synthetic market must give the same price at the same moment in any process, and must
compute any moment directly: simulating forward from an epoch would make a price in 2026 cost
millions of steps and tie every process to the same starting point. So nothing here has state
that advances. Every random number is a hash of its coordinates (counter-based randomness):
``RandomStream(seed, "diffusion", "BTC").uniforms(a, b)`` is a keyed BLAKE2b of ``(a, b)``,
stable across processes, Python versions and platforms (unlike ``hash()``, which is salted).

Smooth processes are *value noise*: i.i.d. standard normal "knots" on a grid of spacing ``s``,
linearly interpolated between knots. Summing octaves with spacings ``s, 2s, 4s, ...`` and
amplitudes ``a_k = c * sqrt(s_k)`` gives a process whose increments over a horizon ``h``
(between the finest and coarsest spacing) have a variance close to proportional to ``h``: it
looks like a random walk locally, yet it is stationary (it wanders around its centre on the
scale of the coarsest octave). Evaluating it costs two knots per octave, whatever ``t`` is.

The knots are floats, so a value is bit-identical wherever the platform's ``log``/``cos``
are (every mainstream libm is correctly rounded for these, but IEEE does not promise it).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_PACK_COUNTERS = struct.Struct("<qq").pack
_UNPACK_WORDS = struct.Struct("<4Q").unpack
_TO_UNIT = 2.0**-53  # 53 high bits of a word -> a float in [0, 1), never 1.0
_TWO_PI = 2.0 * math.pi

KNOT_CACHE_SIZE = 4096
"""Knots kept per noise process. Consecutive calls at nearby times reuse the knots of every
octave but the finest few; 4096 covers a book's worth of calls with room to spare."""


class RandomStream:
    """Independent uniform numbers addressed by two signed 64-bit counters.

    The stream's name (``seed`` plus strings such as ``"basis", "paper_a", "BTC"``) keys the
    hash, so streams never share numbers; each ``(a, b)`` yields four uniforms in [0, 1).
    """

    __slots__ = ("_prefix",)

    def __init__(self, seed: int, *name: str) -> None:
        key = "\x1f".join((str(seed), *name)).encode()
        self._prefix = hashlib.blake2b(key, digest_size=32)

    def uniforms(self, a: int, b: int = 0) -> tuple[float, float, float, float]:
        hasher = self._prefix.copy()
        hasher.update(_PACK_COUNTERS(a, b))
        w0, w1, w2, w3 = _UNPACK_WORDS(hasher.digest())
        return (
            (w0 >> 11) * _TO_UNIT,
            (w1 >> 11) * _TO_UNIT,
            (w2 >> 11) * _TO_UNIT,
            (w3 >> 11) * _TO_UNIT,
        )

    def normal(self, a: int, b: int = 0) -> float:
        """A standard normal number from the first two uniforms of ``(a, b)``."""
        u0, u1, _, _ = self.uniforms(a, b)
        return normal(u0, u1)


def normal(u0: float, u1: float) -> float:
    """A standard normal number from two uniforms in [0, 1) (Box-Muller)."""
    return math.sqrt(-2.0 * math.log1p(-u0)) * math.cos(_TWO_PI * u1)


def exponential(u: float) -> float:
    """A unit-mean exponential number from a uniform in [0, 1)."""
    return -math.log1p(-u)


def poisson(mean: float, u: float) -> int:
    """A Poisson number with the given mean from one uniform, by inverting the CDF.

    Only for the small means used here (a few events per bucket); the loop is bounded.
    """
    k, probability = 0, math.exp(-mean)
    cumulative = probability
    while u >= cumulative and k < 1000:
        k += 1
        probability *= mean / k
        cumulative += probability
    return k


@dataclass(frozen=True, slots=True)
class Octave:
    """Knots every ``spacing`` microseconds, scaled by ``amplitude``."""

    spacing: int
    amplitude: float


def _octave_spacings(finest: int, coarsest: int) -> list[int]:
    if not 0 < finest <= coarsest:
        raise ValueError(f"need 0 < finest <= coarsest, got {finest} and {coarsest}")
    spacings = [finest]
    while spacings[-1] * 2 <= coarsest:
        spacings.append(spacings[-1] * 2)
    return spacings


def increment_variance(octaves: Sequence[Octave], horizon: int) -> float:
    """Exact variance of ``X(t + horizon) - X(t)`` over a uniformly random ``t``.

    For one octave with amplitude ``a`` and ``d = horizon / spacing`` it is
    ``2 a^2 (C(0) - C(d))`` where ``C`` is the autocorrelation of the interpolation's triangle
    kernel: ``2/3 - d^2 + d^3/2`` up to ``d = 1``, ``(2 - d)^3 / 6`` up to 2, then 0.
    """
    total = 0.0
    for octave in octaves:
        d = horizon / octave.spacing
        if d <= 1.0:
            correlation = 2.0 / 3.0 - d * d + d**3 / 2.0
        elif d <= 2.0:
            correlation = (2.0 - d) ** 3 / 6.0
        else:
            correlation = 0.0
        total += 2.0 * octave.amplitude**2 * (2.0 / 3.0 - correlation)
    return total


def random_walk_octaves(
    finest: int, coarsest: int, *, sd: float, horizon: int
) -> tuple[Octave, ...]:
    """Octaves whose increments over ``horizon`` have standard deviation ``sd``.

    Amplitudes grow as ``sqrt(spacing)``, which is what makes increments random-walk-like.
    """
    shape = [Octave(s, math.sqrt(s)) for s in _octave_spacings(finest, coarsest)]
    scale = sd / math.sqrt(increment_variance(shape, horizon))
    return tuple(Octave(o.spacing, o.amplitude * scale) for o in shape)


def stationary_octaves(finest: int, coarsest: int, *, sd: float) -> tuple[Octave, ...]:
    """Octaves whose sum has standard deviation ``sd`` (averaged over the knot phase).

    Amplitudes grow as ``sqrt(spacing)``, so the slow octaves carry most of the variance:
    the process drifts for a while, then turns, as funding rates and regimes do. A linearly
    interpolated unit knot has variance 2/3 on average, hence the factor.
    """
    shape = [Octave(s, math.sqrt(s)) for s in _octave_spacings(finest, coarsest)]
    scale = sd / math.sqrt(sum(o.amplitude**2 for o in shape) * 2.0 / 3.0)
    return tuple(Octave(o.spacing, o.amplitude * scale) for o in shape)


class ValueNoise:
    """A sum of octaves of interpolated normal knots: a smooth, stationary, pure process.

    Octaves are told apart by their spacing, so two ``ValueNoise`` on one stream with
    different spacings are independent, and with the same spacings identical.
    """

    __slots__ = ("_knot", "_octaves")

    def __init__(self, stream: RandomStream, octaves: Sequence[Octave]) -> None:
        self._octaves = tuple(octaves)
        self._knot = lru_cache(maxsize=KNOT_CACHE_SIZE)(stream.normal)

    @property
    def octaves(self) -> tuple[Octave, ...]:
        return self._octaves

    def __call__(self, t: int) -> float:
        """The value at ``t`` microseconds since the epoch."""
        knot = self._knot
        total = 0.0
        for octave in self._octaves:
            spacing = octave.spacing
            index, offset = divmod(t, spacing)
            left = knot(spacing, index)
            total += octave.amplitude * (
                left + (knot(spacing, index + 1) - left) * offset / spacing
            )
        return total
