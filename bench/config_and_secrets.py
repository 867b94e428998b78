"""How much the foundations cost: config loading and secret scrubbing per log line.

Scrubbing runs on every rendered log line, so its cost with many registered
secrets matters more than anything else here.
"""

from __future__ import annotations

import io
import secrets
import sys
from functools import partial
from pathlib import Path

import strategies  # noqa: F401  (fills the params registry that config validation reads)
from bench.harness import machine, median_seconds, report
from core.logging_setup import configure_logging, get_logger
from core.redaction import forget_all_secrets, register_secret, scrub
from trading_config import load_config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def main() -> None:
    sys.stdout.write(f"config and secrets ({machine()})\n")
    for config in sorted(CONFIGS.glob("*.yml")):
        report(f"load + validate {config.name}", median_seconds(partial(load_config, config)))

    line = (
        '{"event": "order placed", "venue": "binance", "symbol": "BTC", "client_order_id": '
        '"pf-grid-000123", "price": "64123.5", "size": "0.015", "bot": "grid-btc"}'
    )
    forget_all_secrets()
    baseline = median_seconds(lambda: scrub(line), rounds=25, inner=2000)
    report("scrub one log line, 0 secrets registered", baseline)
    for count in (10, 100, 1000):
        forget_all_secrets()
        for _ in range(count):
            register_secret(secrets.token_urlsafe(32))
        cost = median_seconds(lambda: scrub(line), rounds=25, inner=2000)
        report(f"scrub one log line, {count} secrets registered", cost, f"x{cost / baseline:.1f}")

    stream = io.StringIO()
    configure_logging(level="INFO", json=True, stream=stream)
    log = get_logger("bench", bot="grid-btc", venue="binance", symbol="BTC")
    per_line = median_seconds(
        lambda: log.info("order placed", price="64123.5", size="0.015"), rounds=25, inner=500
    )
    report("structlog JSON line incl. redaction (1000 secrets)", per_line)
    forget_all_secrets()


if __name__ == "__main__":
    main()
