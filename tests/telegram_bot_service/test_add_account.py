"""/add_account: credentials asked field by field; secret answers deleted, stored encrypted,
never shown again — not in any message the bot sends, not in the audit log, not in the logs."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.logging_setup import configure_logging
from database.models import AccountCredential
from database.repositories.accounts import get_account_credentials
from testing.fakes.telegram_api import FakeTelegramServer
from tests.telegram_bot_service.conftest import ADMIN, StartService

API_KEY = "AKIAperpfleetTELEGRAMkey0001"
API_SECRET = "sEcReT-telegram-test-0123456789abcdef"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """perpfleet's logging pipeline at DEBUG, rendered into a buffer."""
    stream = io.StringIO()
    configure_logging(level="DEBUG", json=True, stream=stream)
    try:
        yield stream
    finally:
        configure_logging(level="WARNING", json=True, stream=sys.stderr)


def _secret_free(telegram: FakeTelegramServer) -> None:
    """No Bot API call the service made carries a secret (updates it read aside)."""
    for call in telegram.calls:
        outgoing = json.dumps(call.params, default=str)
        if call.method != "getUpdates":
            outgoing += json.dumps(call.result, default=str)
        assert API_KEY not in outgoing, call.method
        assert API_SECRET not in outgoing, call.method


async def test_add_account_deletes_secrets_and_stores_them_encrypted(
    start_service: StartService,
    master_key: str,
    log_stream: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with start_service() as harness:
        tg = harness.telegram
        assert "Account name?" in (await harness.say(ADMIN, "/add_account")).text
        assert "Venue?" in (await harness.say(ADMIN, "alice")).text
        ask_key = await harness.say(ADMIN, "binance")
        assert "api_key" in ask_key.text
        assert "delete your message" in ask_key.text

        mark = tg.mark()
        key_message = await tg.send_text(ADMIN, API_KEY)
        ask_secret = await tg.reply_to(ADMIN, after=mark)
        assert "api_secret" in ask_secret.text
        mark = tg.mark()
        secret_message = await tg.send_text(ADMIN, API_SECRET)
        ask_email = await tg.reply_to(ADMIN, after=mark)
        assert "sub_account_email" in ask_email.text
        assert "Optional" in ask_email.text
        email_message = await tg.send_text(ADMIN, "alice@example.com")
        done = await tg.reply_to(ADMIN, after=mark, contains="Stored")
        assert done.text == (
            "Stored binance credentials for account alice (encrypted fields: api_key, api_secret)."
        )

        # Exactly the two secret answers were deleted, nothing else.
        deleted = [call.params["message_id"] for call in tg.calls_of("deleteMessage")]
        assert deleted == [key_message["message_id"], secret_message["message_id"]]
        assert tg.deleted == [
            (ADMIN, key_message["message_id"]),
            (ADMIN, secret_message["message_id"]),
        ]
        assert (ADMIN, email_message["message_id"]) in tg.messages

        # Stored encrypted; readable with the master key through the repository.
        async with harness.sessions() as session:
            public, secrets = await get_account_credentials(session, "alice", "binance")
            row = await session.scalar(select(AccountCredential))
        assert public == {"sub_account_email": "alice@example.com"}
        assert {name: value.reveal() for name, value in secrets.items()} == {
            "api_key": API_KEY,
            "api_secret": API_SECRET,
        }
        assert row is not None
        assert row.secrets_blob is not None
        assert API_SECRET.encode() not in row.secrets_blob
        assert API_KEY.encode() not in row.secrets_blob

        [audit] = await harness.audit_rows("account.credentials.add")
        assert audit.actor == f"telegram:{ADMIN}"
        assert audit.details["encrypted_fields"] == ["api_key", "api_secret"]
        assert API_SECRET not in json.dumps(audit.details)

        accounts = await harness.say(ADMIN, "/accounts")
        assert "alice" in accounts.text
        assert "binance" in accounts.text

    _secret_free(tg)
    logged = log_stream.getvalue() + "\n".join(
        f"{record.getMessage()} {record.args!r}" for record in caplog.records
    )
    assert logged  # the pipeline did log (DEBUG): the check below is not vacuous
    assert API_KEY not in logged
    assert API_SECRET not in logged


async def test_cancel_aborts_and_stores_nothing(
    start_service: StartService, master_key: str
) -> None:
    async with start_service() as harness:
        tg = harness.telegram
        await harness.say(ADMIN, "/add_account")
        await harness.say(ADMIN, "bob")
        await harness.say(ADMIN, "binance")
        mark = tg.mark()
        key_message = await tg.send_text(ADMIN, API_KEY)
        await tg.reply_to(ADMIN, after=mark)
        mark = tg.mark()
        cancel_message = await tg.send_text(ADMIN, "/cancel")
        cancelled = await tg.reply_to(ADMIN, after=mark)
        assert cancelled.text == "Cancelled: nothing was stored."
        # Sent while a secret was expected, /cancel is deleted too (every such message is).
        assert tg.deleted == [
            (ADMIN, key_message["message_id"]),
            (ADMIN, cancel_message["message_id"]),
        ]
        async with harness.sessions() as session:
            assert await session.scalar(select(AccountCredential)) is None
        after = await harness.say(ADMIN, "/cancel")
        assert after.text == "Nothing to cancel."
    _secret_free(tg)


async def test_invalid_answers_are_asked_again(
    start_service: StartService, master_key: str
) -> None:
    async with start_service() as harness:
        await harness.say(ADMIN, "/add_account")
        again = await harness.say(ADMIN, "no spaces allowed")
        assert "not a valid account name" in again.text
        await harness.say(ADMIN, "carol")
        unknown = await harness.say(ADMIN, "binanse")
        assert "unknown venue 'binanse'" in unknown.text
        assert "binance" in unknown.text
        paper = await harness.say(ADMIN, "paper")
        assert "Stored paper credentials for account carol" in paper.text


SLASH_SECRET = "/k3y+base64/Secret=="  # base64 may start with "/": Telegram marks "/k3y" a command


async def test_a_secret_that_looks_like_a_command_is_deleted_and_taken(
    start_service: StartService, master_key: str
) -> None:
    async with start_service() as harness:
        tg = harness.telegram
        await harness.say(ADMIN, "/add_account")
        await harness.say(ADMIN, "dora")
        await harness.say(ADMIN, "binance")
        mark = tg.mark()
        key_message = await tg.send_text(ADMIN, SLASH_SECRET)
        ask_secret = await tg.reply_to(ADMIN, after=mark)
        assert "api_secret" in ask_secret.text
        assert (ADMIN, key_message["message_id"]) in tg.deleted
        mark = tg.mark()
        secret_message = await tg.send_text(ADMIN, "/bots")  # whatever it starts with
        await tg.reply_to(ADMIN, after=mark, contains="sub_account_email")
        assert (ADMIN, secret_message["message_id"]) in tg.deleted
        done = await harness.say(ADMIN, "-", contains="Stored")
        assert "dora" in done.text
        async with harness.sessions() as session:
            _, secrets = await get_account_credentials(session, "dora", "binance")
        assert {k: v.reveal() for k, v in secrets.items()} == {
            "api_key": SLASH_SECRET,
            "api_secret": "/bots",
        }
        for call in tg.sent(ADMIN):
            assert SLASH_SECRET not in call.text


async def test_an_edited_secret_message_is_deleted_too(
    start_service: StartService, master_key: str
) -> None:
    async with start_service() as harness:
        tg = harness.telegram
        await harness.say(ADMIN, "/add_account")
        typo = await tg.send_text(ADMIN, "erin")
        await harness.settle()
        await harness.say(ADMIN, "binance")
        # Typing the key into an earlier message by editing it: it leaves the chat as well.
        await tg.edit_text(ADMIN, typo, API_KEY)
        await harness.settle()
        assert (ADMIN, typo["message_id"]) in tg.deleted
    _secret_free(tg)


async def test_an_abandoned_dialogue_forgets_its_secrets(
    start_service: StartService, master_key: str
) -> None:
    async with start_service(conversation_timeout_seconds=1) as harness:
        tg = harness.telegram
        await harness.say(ADMIN, "/add_account")
        await harness.say(ADMIN, "frank")
        await harness.say(ADMIN, "binance")
        mark = tg.mark()
        await tg.send_text(ADMIN, API_KEY)
        await tg.reply_to(ADMIN, after=mark, contains="api_secret")
        timed_out = await tg.reply_to(ADMIN, after=mark, contains="timed out", wait_seconds=10)
        assert "nothing was stored" in timed_out.text
        assert "perpfleet.add_account" not in harness.app.user_data[ADMIN]
        # An answer arriving afterwards is deleted (a secret was expected) and not stored.
        mark = tg.mark()
        late = await tg.send_text(ADMIN, API_SECRET)
        again = await tg.reply_to(ADMIN, after=mark)
        assert "timed out" in again.text
        assert (ADMIN, late["message_id"]) in tg.deleted
        async with harness.sessions() as session:
            assert await session.scalar(select(AccountCredential)) is None
        help_answer = await harness.say(ADMIN, "/help")  # the dialogue is over
        assert "/add_account" in help_answer.text
    _secret_free(tg)
