"""Building paper clients for tests the way the runtime does: through the factory."""

from __future__ import annotations

from exchange_clients.factory import create_client
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.types import ClientSettings
from tests.exchange_clients.paper.feeds import ScriptedFeed


def paper_client(
    feed: ScriptedFeed,
    *,
    venue: str = "paper",
    account: str | None = None,
    database_url: str | None = None,
    **options: object,
) -> PaperExchangeClient:
    """A client built the way the runtime builds one: through the factory.

    In memory unless ``database_url`` is given.
    """
    storage = {"database_url": database_url} if database_url else {"store": None}
    client = create_client(
        ClientSettings(
            venue=venue,
            account=account,
            options={"feed": feed, "clock": feed.clock, **storage, **options},
        )
    )
    assert isinstance(client, PaperExchangeClient)
    return client
