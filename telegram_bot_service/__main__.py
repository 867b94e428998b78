"""``python -m telegram_bot_service ...`` — see :mod:`telegram_bot_service.cli`."""

import sys

from telegram_bot_service.cli import main

sys.exit(main())
