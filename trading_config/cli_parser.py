"""The argument parser every perpfleet command line uses.

argparse prints its usage block and exits 2 on a bad flag; perpfleet's commands report a
user mistake in one line (which flag, what was expected) and exit 2, like every other error.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_USER_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")
