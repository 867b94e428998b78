"""The fake GRVT as a venue: the API-key login, and every order's EIP-712 signature recovered
and checked against the API key's registered address, refusals in GRVT's error shape."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from testing.fakes.grvt import FakeGrvt
from tests.exchange_clients.grvt.helpers import (
    API_KEY,
    OTHER_PRIVATE_KEY,
    OTHER_SUB,
    PRIVATE_KEY,
    SUB,
    key_of,
    running,
    signed_order,
)

CREATE = "/full/v1/create_order"


@asynccontextmanager
async def session(fake: FakeGrvt, api_key: str = API_KEY) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session logged in as ``api_key`` (the cookie is ``Secure``: sent by hand here,
    as the client does, since the fake is plain HTTP)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(fake.base_url + "/auth/api_key/login", json={"api_key": api_key}) as r:
            assert r.status == 200
            http.headers["X-Grvt-Account-Id"] = r.headers["X-Grvt-Account-Id"]
            http.headers["Cookie"] = f"gravity={r.cookies['gravity'].value}"
        yield http


async def post(
    http: aiohttp.ClientSession, fake: FakeGrvt, path: str, body: Any
) -> tuple[int, Any]:
    async with http.post(fake.base_url + path, json=body) as response:
        return response.status, await response.json()


async def test_login_answers_a_gravity_cookie_with_expiry_and_the_account_id() -> None:
    async with running() as (fake, _), aiohttp.ClientSession() as http:
        async with http.post(fake.base_url + "/auth/api_key/login", json={"api_key": API_KEY}) as r:
            assert r.status == 200
            cookie = r.cookies["gravity"]
            assert cookie.value
            assert cookie["expires"]
            assert r.headers["X-Grvt-Account-Id"] == key_of(fake).account_id
        async with http.post(fake.base_url + "/auth/api_key/login", json={"api_key": "nope"}) as r:
            assert r.status == 401
            assert await r.json() == {
                "code": 1000,
                "message": "You need to authenticate prior to using this functionality",
                "status": 401,
            }


async def test_a_correctly_signed_order_is_accepted_and_its_signer_recovered() -> None:
    async with running() as (fake, sub), session(fake) as http:
        status, answer = await post(http, fake, CREATE, signed_order())
        assert status == 200
        assert answer["result"]["state"]["status"] == "OPEN"
        assert fake.recovered_signers == [key_of(fake).signer]
        assert len(sub.orders) == 1


async def test_a_payload_changed_after_signing_does_not_match() -> None:
    async with running() as (fake, sub), session(fake) as http:
        body = signed_order()
        body["order"]["legs"][0]["size"] = "0.002"
        status, answer = await post(http, fake, CREATE, body)
        assert (status, answer["code"]) == (403, 2002)
        assert answer["message"] == "Signature does not match payload"
        assert sub.orders == {}


async def test_a_key_other_than_the_api_keys_is_an_unauthorized_signer() -> None:
    async with running() as (fake, sub), session(fake) as http:
        status, answer = await post(http, fake, CREATE, signed_order(private_key=OTHER_PRIVATE_KEY))
        assert (status, answer["code"], answer["status"]) == (403, 2000, 403)
        assert sub.orders == {}


async def test_a_signature_for_another_chain_recovers_someone_else() -> None:
    async with running() as (fake, _sub), session(fake) as http:
        status, answer = await post(http, fake, CREATE, signed_order(environment="prod"))
        assert (status, answer["code"]) == (403, 2002)


async def test_the_sub_account_is_part_of_what_is_signed() -> None:
    async with running() as (fake, sub), session(fake) as http:
        body = signed_order(sub=OTHER_SUB)  # signed for another sub-account ...
        body["order"]["sub_account_id"] = SUB  # ... sent for ours
        status, answer = await post(http, fake, CREATE, body)
        assert (status, answer["code"]) == (403, 2002)
        assert sub.orders == {}


async def test_expired_signatures_are_refused_and_over_30_days_rejected() -> None:
    async with running() as (fake, _sub), session(fake) as http:
        past = time.time_ns() - 1
        status, answer = await post(http, fake, CREATE, signed_order(expiration_ns=past))
        assert (status, answer["code"], answer["message"]) == (403, 2001, "Signature has expired")
        far = time.time_ns() + 31 * 24 * 3600 * 10**9
        status, answer = await post(http, fake, CREATE, signed_order(expiration_ns=far))
        assert status == 200
        assert answer["result"]["state"]["status"] == "REJECTED"
        assert answer["result"]["state"]["reject_reason"] == "EXCEED_MAX_SIGNATURE_EXPIRATION"


async def test_malformed_orders_are_refused_with_code_1003() -> None:
    async with running() as (fake, sub), session(fake) as http:
        too_fine = signed_order()
        too_fine["order"]["legs"][0]["size"] = "0.0000000001"
        no_signature = signed_order()
        del no_signature["order"]["signature"]
        bad_client_id = signed_order(client_order_id="abc")
        not_legs = {"order": {"sub_account_id": SUB, "legs": "x"}}
        for body in (too_fine, no_signature, bad_client_id, not_legs):
            status, answer = await post(http, fake, CREATE, body)
            assert (status, answer["code"]) == (400, 1003), body
        assert sub.orders == {}


async def test_trading_needs_the_session_and_an_own_sub_account() -> None:
    async with running() as (fake, _):
        fake.add_api_key("other-key", OTHER_PRIVATE_KEY, [OTHER_SUB])
        async with aiohttp.ClientSession() as anonymous:
            status, answer = await post(anonymous, fake, CREATE, signed_order())
            assert (status, answer["code"]) == (401, 1000)
        async with session(fake) as http:
            status, answer = await post(
                http, fake, "/full/v1/open_orders", {"sub_account_id": OTHER_SUB}
            )
            assert (status, answer["code"]) == (403, 1001)
            status, _ = await post(http, fake, "/full/v1/open_orders", {"sub_account_id": SUB})
            assert status == 200
        assert PRIVATE_KEY not in str(fake.requests)
