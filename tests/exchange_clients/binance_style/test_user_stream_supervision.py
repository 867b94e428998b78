"""The listen-key keepalive loop is supervised: killed by an unexpected error, it goes on.

Without it the key lapses within the hour and the account's stream goes quiet. The loop
retries the venue's refusals by itself; anything else kills it, and the user stream's
supervisor logs it by name and starts it again. Proven against the fake Binance.
"""

from __future__ import annotations

import asyncio
from typing import Any

from structlog.testing import capture_logs

from exchange_clients.binance_style.rest import BinanceStyleRest
from testing.fakes.binance import FakeBinance
from tests.exchange_clients.binance_style.helpers import (
    API_KEY,
    API_SECRET,
    connected,
    eventually,
    hmac_settings,
)


async def test_a_keepalive_loop_killed_by_a_bug_is_logged_and_started_again() -> None:
    async with FakeBinance() as fake:
        fake.add_account(api_key=API_KEY, api_secret=API_SECRET)
        settings = hmac_settings("binance", fake, listen_key_keepalive_seconds=0.02)
        async with connected(settings) as client:
            stream = client.user_stream
            assert stream is not None
            rest: BinanceStyleRest = stream._rest
            send = rest.user_stream
            broken = {"once": True}

            async def user_stream(method: str, path: str, params: Any = ()) -> Any:
                if method == "PUT" and broken["once"]:
                    broken["once"] = False
                    raise RuntimeError("a signing bug")  # not a refusal the loop expects
                return await send(method, path, params)

            rest.user_stream = user_stream  # type: ignore[method-assign]
            key = stream.listen_key
            with capture_logs() as logs:
                before = stream.keepalives
                await eventually(lambda: stream.restarts == 1, "a restarted keepalive loop")
                await eventually(lambda: stream.keepalives >= before + 3, "keepalives again")
            failed = [e for e in logs if e["event"] == "background task failed"]
            assert [(e["component"], e["task"]) for e in failed] == [
                ("binance-user-stream", "listenkey-keepalive")
            ]
            assert stream.listen_key == key == fake.accounts[0].listen_key
        # Disconnected: no task of the stream is left.
        names = {t.get_name() for t in asyncio.all_tasks()}
        assert not any(name.startswith("binance-user-stream:") for name in names)
