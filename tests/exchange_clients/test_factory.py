"""Venue name -> client class."""

from __future__ import annotations

import pytest

from exchange_clients.factory import client_class, create_client, known_venues, register_client
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings
from trading_config.errors import ConfigError


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
