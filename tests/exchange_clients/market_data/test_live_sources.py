"""Every public live source by its config name, and each loading only its own venue's code.

A paper bot follows one or two venues; importing every venue package (Lighter's signer SDK,
eth_account for Aster and Hyperliquid, Backpack's ed25519) would cost every such bot start-up
time and memory for nothing, so ``public_source`` imports a source's module only when a config
names it. Checked in a fresh interpreter per source.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from core.errors import ConfigError
from exchange_clients.market_data.live import LIVE_SOURCES, LiveSourceSettings, public_source
from tests.helpers import PROJECT_ROOT
from trading_config.schema import MarketDataConfig

VENUE_PACKAGES = ("aster", "backpack", "binance", "binance_style", "hyperliquid", "lighter")
OWN_PACKAGES = {
    "binance": {"binance", "binance_style"},
    "aster": {"aster", "binance_style"},
    "backpack": {"backpack"},
    "lighter": {"lighter"},
    "hyperliquid": {"hyperliquid"},
}
PROBE = """
import json, sys
from exchange_clients.market_data.live import LiveSourceSettings, public_source
source = public_source(sys.argv[1], LiveSourceSettings())
print(json.dumps({"venue": source.venue, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("name", sorted(OWN_PACKAGES))
def test_a_source_loads_only_its_own_venue(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, name],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["venue"] == name
    modules = set(answer["modules"])
    loaded = {p for p in VENUE_PACKAGES if f"exchange_clients.{p}" in modules}
    assert loaded == OWN_PACKAGES[name]
    assert "lighter" not in modules  # the signer SDK: a public source needs no key
    assert "ccxt" not in modules


def test_every_live_source_is_a_config_choice_and_back() -> None:
    annotation = MarketDataConfig.model_fields["source"].annotation
    assert set(annotation.__args__) == {"synthetic", *LIVE_SOURCES}  # type: ignore[union-attr]
    assert set(LIVE_SOURCES) == set(OWN_PACKAGES)


def test_an_unknown_source_lists_every_known_one() -> None:
    with pytest.raises(ConfigError, match="aster, backpack, binance, hyperliquid, lighter"):
        public_source("bitmex", LiveSourceSettings())
