"""Where perpfleet keeps its runtime files.

Everything the system writes at run time (SQLite database, master key file,
supervisor files, logs) lives under one ``var/`` directory so a checkout stays
self-contained and nothing is written outside it unless configured.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


VAR_DIR_ENV = "PERPFLEET_VAR_DIR"


def var_dir() -> Path:
    """The runtime directory: ``$PERPFLEET_VAR_DIR`` or ``<project>/var``; created on demand.

    Created 0700: it holds the database, the master key and control tokens, so it is private
    from its first moment (an existing directory's mode is left alone; the database engine
    warns when it is looser).
    """
    configured = os.environ.get(VAR_DIR_ENV)
    path = Path(configured).expanduser() if configured else PROJECT_ROOT / "var"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
