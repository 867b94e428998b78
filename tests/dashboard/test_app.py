"""The dashboard over HTTP, as a browser talks to it: login, pages, controls by role, CSRF,
audit, with the real app on a real port in front of real control-API apps."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.dashboard.conftest import PASSWORD, Dashboard, csrf_of, login


async def test_login_sets_a_strict_httponly_session_and_shows_the_fleet(
    dashboard: Dashboard,
) -> None:
    client = await dashboard.client()
    assert (await client.get("/")).status_code == 303  # not logged in: to the login form
    answer = await login(client, "vic")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # loopback, no TLS in front
    page = await client.get("/")
    assert page.status_code == 200
    for bot in ("grid-a", "grid-b"):
        assert f'href="/bots/{bot}"' in page.text
    assert "1,000.00" in page.text or "equity" in page.text.lower()
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    entries = await dashboard.audit()
    assert [(e.actor, e.action) for e in entries][-1] == ("dashboard:vic", "dashboard.login")


async def test_wrong_password_is_refused_and_repeated_failures_are_rate_limited(
    dashboard: Dashboard,
) -> None:
    client = await dashboard.client()
    for _ in range(5):
        answer = await login(client, "ada", "not the password")
        assert answer.status_code == 401
        assert "wrong name or password" in answer.text
    limited = await login(client, "ada")  # even the right password waits now
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "perpfleet_session" not in limited.headers.get("set-cookie", "")


async def test_unknown_user_and_wrong_password_answer_alike(dashboard: Dashboard) -> None:
    client = await dashboard.client()
    unknown = await login(client, "nobody", "whatever-it-is")
    wrong = await login(client, "tom", "whatever-it-is")
    assert unknown.status_code == wrong.status_code == 401
    assert "wrong name or password" in unknown.text
    assert "wrong name or password" in wrong.text


async def test_login_form_without_its_csrf_cookie_is_refused(dashboard: Dashboard) -> None:
    client = await dashboard.client()
    answer = await client.post("/login", data={"csrf": "forged", "name": "ada", "password": "x"})
    assert answer.status_code == 403


async def test_trader_pauses_a_bot_and_it_is_audited(dashboard: Dashboard) -> None:
    client = await dashboard.client("tom")
    page = await client.get("/bots/grid-a")
    assert 'data-action="pause"' in page.text
    answer = await client.post(
        "/api/v1/bots/grid-a/pause", json={}, headers={"X-CSRF-Token": csrf_of(page.text)}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == "grid-a is paused"
    assert dashboard.fleet.bots["grid-a"].control.paused
    last = (await dashboard.audit())[-1]
    assert (last.actor, last.action, last.target) == (
        "dashboard:tom",
        "dashboard.bot.pause",
        "grid-a",
    )


async def test_a_post_without_the_csrf_token_is_refused_and_does_nothing(
    dashboard: Dashboard,
) -> None:
    client = await dashboard.client("ada")
    before = len(await dashboard.audit())
    missing = await client.post("/api/v1/bots/grid-a/pause", json={})
    wrong = await client.post(
        "/api/v1/bots/grid-a/pause", json={}, headers={"X-CSRF-Token": "guessed"}
    )
    assert missing.status_code == wrong.status_code == 403
    assert "CSRF" in missing.json()["error"]
    assert not dashboard.fleet.bots["grid-a"].control.paused
    assert len(await dashboard.audit()) == before


async def test_a_cross_origin_post_is_refused_even_with_the_token(dashboard: Dashboard) -> None:
    client = await dashboard.client("ada")
    token = csrf_of((await client.get("/")).text)
    answer = await client.post(
        "/api/v1/bots/grid-a/pause",
        json={},
        headers={"X-CSRF-Token": token, "Origin": "http://evil.example"},
    )
    assert answer.status_code == 403
    assert not dashboard.fleet.bots["grid-a"].control.paused


async def test_a_viewer_sees_no_controls_and_is_refused_one(dashboard: Dashboard) -> None:
    client = await dashboard.client("vic")
    page = await client.get("/bots/grid-a")
    assert 'data-action="pause"' not in page.text
    answer = await client.post(
        "/api/v1/bots/grid-a/pause", json={}, headers={"X-CSRF-Token": csrf_of(page.text)}
    )
    assert answer.status_code == 403
    assert "needs the trader role" in answer.json()["error"]
    assert not dashboard.fleet.bots["grid-a"].control.paused


@pytest.mark.parametrize("action", ["kill", "reset-kill"])
async def test_a_trader_is_refused_the_admin_controls(dashboard: Dashboard, action: str) -> None:
    client = await dashboard.client("tom")
    token = csrf_of((await client.get("/")).text)
    answer = await client.post(
        f"/api/v1/bots/grid-a/{action}",
        json={"confirm": "grid-a", "reason": "checked"},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 403
    assert dashboard.fleet.bots["grid-a"].info.running


async def test_kill_needs_the_bots_name_as_confirmation(dashboard: Dashboard) -> None:
    client = await dashboard.client("ada")
    token = csrf_of((await client.get("/")).text)
    headers = {"X-CSRF-Token": token}
    refused = await client.post(
        "/api/v1/bots/grid-a/kill", json={"confirm": "grid-b"}, headers=headers
    )
    assert refused.status_code == 400
    control = dashboard.fleet.bots["grid-a"].control
    positions = [p["id"] for p in control.positions_]
    assert positions
    assert not control.killed
    done = await client.post(
        "/api/v1/bots/grid-a/kill", json={"confirm": "grid-a"}, headers=headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["message"].startswith(f"grid-a killed: positions closed: {positions[0]}")
    # The bot's own kill switch (through its control API): cancel, close, stop, engaged.
    assert control.killed
    assert control.stop_requested
    assert control.positions_ == []
    last = (await dashboard.audit())[-1]
    assert (last.action, last.details) == (
        "dashboard.bot.kill",
        {"complete": True, "closed_positions": positions, "cancelled_orders": 2},
    )
    again = await client.post(
        "/api/v1/bots/grid-a/kill", json={"confirm": "grid-a"}, headers=headers
    )
    assert again.status_code == 409
    assert "already stopping" in again.json()["error"]


async def test_reset_kill_asks_for_force_while_the_drawdown_holds(dashboard: Dashboard) -> None:
    control = dashboard.fleet.bots["grid-a"].control
    control.killed, control.drawdown_holds = True, True
    client = await dashboard.client("ada")
    headers = {"X-CSRF-Token": csrf_of((await client.get("/")).text)}
    first = await client.post(
        "/api/v1/bots/grid-a/reset-kill", json={"reason": "checked the venue"}, headers=headers
    )
    assert first.status_code == 409
    assert first.json()["kind"] == "needs_confirmation"
    assert control.killed
    forced = await client.post(
        "/api/v1/bots/grid-a/reset-kill",
        json={"reason": "checked the venue", "force": True},
        headers=headers,
    )
    assert forced.status_code == 200, forced.text
    assert not control.killed
    assert control.resets[-1].actor == "dashboard:ada"


async def test_close_a_position_with_its_confirmation_on_a_wide_spread(
    dashboard: Dashboard,
) -> None:
    control = dashboard.fleet.bots["grid-a"].control
    client = await dashboard.client("tom")
    page = await client.get("/bots/grid-a")
    headers = {"X-CSRF-Token": csrf_of(page.text)}
    for position in list(control.positions_):
        assert f'data-close="{position["id"]}"' in page.text
        answer = await client.post(
            "/api/v1/bots/grid-a/close", json={"position": position["id"]}, headers=headers
        )
        if answer.status_code == 409:
            assert answer.json()["kind"] == "needs_confirmation"
            answer = await client.post(
                "/api/v1/bots/grid-a/close",
                json={"position": position["id"], "confirm": True},
                headers=headers,
            )
        assert answer.status_code == 200, answer.text
    assert control.positions_ == []
    assert {a.action for a in await dashboard.audit()} >= {"dashboard.bot.close"}


async def test_launch_takes_only_a_config_of_the_configs_folder(dashboard: Dashboard) -> None:
    client = await dashboard.client("tom")
    headers = {"X-CSRF-Token": csrf_of((await client.get("/")).text)}
    outside = await client.post(
        "/api/v1/launch", json={"config": "../../etc/passwd"}, headers=headers
    )
    assert outside.status_code == 400
    assert "paper_grid.yml" in outside.json()["error"]
    done = await client.post("/api/v1/launch", json={"config": "paper_grid.yml"}, headers=headers)
    assert done.status_code == 200, done.text
    assert dashboard.fleet.actions[-1][0] == "launch"
    last = (await dashboard.audit())[-1]
    assert (last.action, last.details["config"]) == ("dashboard.bot.launch", "paper_grid.yml")


async def test_logout_ends_the_session_on_the_server(dashboard: Dashboard) -> None:
    client = await dashboard.client("vic")
    page = await client.get("/")
    stolen = client.cookies.get("perpfleet_session")
    assert (await client.post("/logout", data={"csrf": csrf_of(page.text)})).status_code == 303
    thief = await dashboard.client()
    thief.cookies.set("perpfleet_session", stolen or "")
    assert (await thief.get("/")).status_code == 303


async def test_unknown_bot_and_unknown_control(dashboard: Dashboard) -> None:
    client = await dashboard.client("ada")
    headers = {"X-CSRF-Token": csrf_of((await client.get("/")).text)}
    assert (await client.get("/bots/nope")).status_code == 404
    assert (await client.post("/api/v1/bots/grid-a/explode", headers=headers)).status_code == 404


async def test_pages_render_for_every_role(dashboard: Dashboard) -> None:
    client = await dashboard.client("ada")
    for path in ("/", "/bots/grid-a", "/compare", "/funding", "/audit"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
    funding = await client.get("/funding")
    assert "unreachable" in funding.text
    viewer = await dashboard.client("vic")
    assert (await viewer.get("/audit")).status_code == 403


async def test_config_on_the_bot_page_never_shows_a_secret(dashboard: Dashboard) -> None:
    control = dashboard.fleet.bots["grid-a"].control
    control.config_ = {**control.config_, "api_secret": "s3cr3t-value-123"}
    client = await dashboard.client("vic")
    page = await client.get("/bots/grid-a")
    assert "s3cr3t-value-123" not in page.text


async def test_a_hung_bot_does_not_hold_the_overview(dashboard: Dashboard) -> None:
    control = dashboard.fleet.bots["grid-b"].control
    original = control.status
    gate = asyncio.Event()

    async def hang():  # type: ignore[no-untyped-def]
        await gate.wait()
        return await original()

    control.status = hang  # type: ignore[method-assign]
    dashboard.services.control_timeout_seconds = 0.3
    client = await dashboard.client("vic")
    try:
        page = await client.get("/")
    finally:
        gate.set()
    assert page.status_code == 200
    assert "grid-b did not answer within 0.3 s" in page.text


async def test_secure_cookies_and_session_length_reach_the_cookie(dashboard: Dashboard) -> None:
    dashboard.services.secure_cookies = True
    dashboard.services.session_hours = 2.0
    client = await dashboard.client()
    form = await client.get("/login")
    assert "; secure" in form.headers["set-cookie"].lower()
    # A Secure cookie is not sent back over plain HTTP: send it as a TLS proxy would pass it.
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    answer = await client.post(
        "/login",
        data={"csrf": csrf, "name": "vic", "password": PASSWORD},
        headers={"Cookie": f"perpfleet_login_csrf={csrf}"},
    )
    assert answer.status_code == 303
    session = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("perpfleet_session=")
    ).lower()
    assert "; secure" in session
    assert "max-age=7200" in session


async def test_an_expired_session_is_refused(dashboard: Dashboard) -> None:
    dashboard.services.session_hours = 0.0
    client = await dashboard.client()
    assert (await login(client, "vic")).status_code == 303
    assert (await client.get("/")).status_code == 303  # expired at once: back to the login


async def test_the_overview_streams_every_running_bot(dashboard: Dashboard) -> None:
    client = await dashboard.client("vic")
    async with client.stream("GET", "/events") as answer:
        lines = answer.aiter_lines()
        connected: set[str] = set()
        async with asyncio.timeout(10):
            async for line in lines:
                if line.startswith("data:") and '"connected":true' in line:
                    connected.add(json.loads(line.removeprefix("data: "))["bot"])
                    if connected == {"grid-a", "grid-b"}:
                        break
            dashboard.fleet.streams["grid-b"].publish("pnl", {"net": "5.25"})
            async for line in lines:
                if '"type":"pnl"' in line:
                    message = json.loads(line.removeprefix("data: "))
                    assert (message["bot"], message["data"]["net"]) == ("grid-b", "5.25")
                    break
