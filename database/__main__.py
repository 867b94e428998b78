"""``python -m database ...`` — see :mod:`database.cli`."""

import sys

from database.cli import main

sys.exit(main())
