"""The fake Bot API behaves like the real one where the service could tell the difference."""

from __future__ import annotations

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest, InvalidToken

from testing.fakes.telegram_api import FakeTelegramServer
from tests.telegram_bot_service.conftest import TOKEN


async def test_a_wrong_token_gets_the_real_401(telegram: FakeTelegramServer) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{telegram.base_url}123:wrong/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    bot = Bot("123:wrong", base_url=telegram.base_url)
    with pytest.raises(InvalidToken):
        await bot.initialize()
    assert telegram.unauthorized_attempts == 2


async def test_methods_and_errors(telegram: FakeTelegramServer) -> None:
    async with Bot(TOKEN, base_url=telegram.base_url) as bot:
        me = await bot.get_me()
        assert me.username == "perpfleet_test_bot"
        assert me.is_bot
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(555, "hello")
        await telegram.send_text(555, "/start")
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None
        assert update.message.text == "/start"
        assert update.message.entities[0].type == "bot_command"
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()

        sent = await bot.send_message(555, "<b>bold</b> &amp; <code>x</code>", parse_mode="HTML")
        assert sent.text == "bold & x"
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(555, "<b>unclosed", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(555, "x" * 4097)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("bold & x", chat_id=555, message_id=sent.message_id)
        assert await bot.delete_message(555, sent.message_id)
        with pytest.raises(BadRequest, match="Message to delete not found"):
            await bot.delete_message(555, sent.message_id)
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query("nope")
