"""A progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW_SECONDS = 0.2


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._label = label
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._last_draw = 0.0
        self._last_tenth = -1
        self._started = time.monotonic()

    def update(self, fraction: float, detail: str = "") -> None:
        fraction = min(1.0, max(0.0, fraction))
        if self._tty:
            now = time.monotonic()
            if now - self._last_draw < REDRAW_SECONDS and fraction < 1.0:
                return
            self._last_draw = now
            filled = int(WIDTH * fraction)
            bar = "#" * filled + "." * (WIDTH - filled)
            self._stream.write(
                f"\r{self._label} [{bar}] {fraction * 100:5.1f}% {detail}".ljust(78)[:120]
            )
            self._stream.flush()
            return
        tenth = int(fraction * 10)
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self._stream.write(f"{self._label}: {tenth * 10}% {detail}\n")
            self._stream.flush()

    def close(self) -> None:
        if self._tty:
            elapsed = time.monotonic() - self._started
            self._stream.write(f"\r{self._label}: done in {elapsed:.1f} s".ljust(78) + "\n")
            self._stream.flush()
