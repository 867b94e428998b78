"""Venue name -> client class."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.errors import ConfigError
from core.venues import VENUES
from exchange_clients.factory import (
    CLIENTS,
    client_class,
    create_client,
    known_venues,
    register_client,
)
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings
from tests.helpers import PROJECT_ROOT


def test_paper_profiles_are_registered() -> None:
    assert {"paper", "paper_a", "paper_b"} <= set(known_venues())
    client = create_client(ClientSettings(venue="paper_a", options={"store": None}))
    assert isinstance(client, PaperExchangeClient)
    assert client.name == "paper_a"


def test_unknown_venue_is_a_config_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        client_class("papr")
    message = str(caught.value)
    assert message.startswith("no exchange client for venue 'papr' (did you mean 'paper'?): ")
    assert message.endswith("expected one of " + ", ".join(known_venues()))


def test_a_venue_name_cannot_be_served_twice() -> None:
    class Impostor(PaperExchangeClient):
        pass

    with pytest.raises(ValueError, match="venue 'paper' is already served by PaperExchangeClient"):
        register_client("paper")(Impostor)


def _in_child(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_listing_venues_and_building_a_paper_client_import_no_other_venue() -> None:
    """Why lazy: a bot trading one venue must not pay for every venue's SDK at start-up."""
    out = _in_child(
        "import sys\n"
        "from exchange_clients.factory import create_client, known_venues\n"
        "from exchange_clients.types import ClientSettings\n"
        "venues = known_venues()\n"
        "create_client(ClientSettings(venue='paper', options={'store': None}))\n"
        "heavy = ('ccxt', 'eth_account', 'py_ecc', 'lighter', 'nacl')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy), len(venues))\n"
    )
    assert out == f"[] {len(CLIENTS)}"


def test_every_catalogued_venue_has_a_client_and_its_import_keeps_the_recursion_limit() -> None:
    """py_ecc (via eth_account) sets the limit to 100000, which turned a deeply nested JSON
    document into a segfault; importing a venue through the factory must leave it as it was."""
    out = _in_child(
        "import sys\n"
        "from exchange_clients.factory import CLIENTS, client_class\n"
        "before = sys.getrecursionlimit()\n"
        "for venue, spec in sorted(CLIENTS.items()):\n"
        "    cls = client_class(venue)\n"
        "    assert f'{cls.__module__}:{cls.__qualname__}' == spec, (venue, spec)\n"
        "import eth_account, py_ecc\n"
        "print(before, sys.getrecursionlimit())\n"
    )
    assert out == "1000 1000"
    assert set(VENUES) <= set(CLIENTS)


def test_a_lazily_named_venue_cannot_be_taken_by_another_class() -> None:
    class Impostor(PaperExchangeClient):
        pass

    with pytest.raises(ValueError, match="venue 'lighter' is already served by LighterClient"):
        register_client("lighter")(Impostor)
