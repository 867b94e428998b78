#!/usr/bin/env python3
"""Run one perpfleet bot: ``python runbot.py --config configs/x.yml [--check] ...``.

Thin on purpose: everything lives in :mod:`bot_runtime`.
"""

import sys

from bot_runtime.cli import main

if __name__ == "__main__":
    sys.exit(main())
