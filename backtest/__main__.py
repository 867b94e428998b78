"""``python -m backtest``: see :mod:`backtest.cli`."""

from backtest.cli import main

raise SystemExit(main())
