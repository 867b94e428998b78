"""Shared pieces of the backtest tests: recorded synthetic sessions and config files."""

from __future__ import annotations

from pathlib import Path

import yaml

from backtest.record import main as record_main

START = "2026-01-01T00:00:00Z"


def record_session(path: Path, minutes: float, venue: str = "paper", symbols: str = "BTC") -> Path:
    rc = record_main(
        [
            "--venue",
            venue,
            "--symbols",
            symbols,
            "--from",
            START,
            "--hours",
            str(minutes / 60),
            "--out",
            str(path),
        ]
    )
    assert rc == 0
    return path


def write_config(
    path: Path, source: str, risk: dict[str, object] | None = None, **params: object
) -> Path:
    """``configs/<source>`` with strategy params (and the risk section) replaced, at ``path``."""
    document = yaml.safe_load((Path(__file__).parents[2] / "configs" / source).read_text())
    if risk is not None:
        document["risk"] = risk
    document["strategy"]["params"].update(params)
    document.setdefault("logging", {})["level"] = "WARNING"
    path.write_text(yaml.safe_dump(document))
    return path
