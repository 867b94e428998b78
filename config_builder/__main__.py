"""``python -m config_builder``: write a bot config by answering questions."""

import sys

from config_builder.terminal import main

sys.exit(main())
