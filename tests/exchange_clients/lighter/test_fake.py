"""The fake's own checks: what it refuses (so client tests passing means something)."""

from __future__ import annotations

import json
import time
import urllib.parse

import aiohttp

from core.redaction import Secret
from exchange_clients.lighter.signing import LighterSigner
from tests.exchange_clients.lighter.helpers import ACCOUNT, API_KEY, KEY, new_fake


def _signer(api_key: int = API_KEY) -> LighterSigner:
    return LighterSigner(Secret(KEY), account_index=ACCOUNT, api_key_index=api_key, chain_id=304)


async def _send(
    session: aiohttp.ClientSession, url: str, tx_type: int, info: str
) -> dict[str, object]:
    body = urllib.parse.urlencode({"tx_type": tx_type, "tx_info": info})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with session.post(f"{url}/api/v1/sendTx", data=body, headers=headers) as response:
        answer: dict[str, object] = await response.json()
        return answer


async def test_the_fake_refuses_malformed_foreign_stale_and_out_of_order_transactions() -> None:
    async with new_fake() as fake, aiohttp.ClientSession() as session:
        signer = _signer()
        good = signer.sign_cancel_order_sync(market_index=1, order_index=1, nonce=0)
        info = good.info
        foreign = _signer(api_key=77).sign_cancel_order_sync(market_index=1, order_index=1, nonce=0)
        cases = [
            (json.dumps({k: v for k, v in info.items() if k != "Sig"}), 21002),  # missing field
            (json.dumps({**info, "Sig": "AAAA"}), 21120),  # not 80 bytes
            (json.dumps({**info, "ExpiredAt": int(time.time() * 1000) - 1}), 21121),  # expired
            (json.dumps({**info, "Nonce": 1}), 21104),  # not the next nonce
            (foreign.tx_info, 21108),  # a key the account does not have
        ]  # fmt: skip
        for tx_info, code in cases:
            assert (await _send(session, fake.base_url, 15, tx_info))["code"] == code
        assert (await _send(session, fake.base_url, 15, good.tx_info))["code"] == 200
        assert (await _send(session, fake.base_url, 15, good.tx_info))["code"] == 21104  # replay
        assert fake.accepted_nonces[(ACCOUNT, API_KEY)] == [0]
