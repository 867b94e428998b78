"""Secrets never reach a log line, an exception text or a repr."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from core.logging_setup import bind_context, clear_context, configure_logging, get_logger
from core.redaction import (
    MASK,
    Secret,
    forget_all_secrets,
    redact,
    register_secret,
    scrub,
)
from tests.helpers import PROJECT_ROOT

API_SECRET = "Zq8sK2vB9xLmN4pQ7rT1"
PRIVATE_KEY = "0x4c0883a69102937d6231471b5dbb6204fe512961708279f2b3e9b0b0f5f1e6a1"


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    forget_all_secrets()
    clear_context()
    yield
    forget_all_secrets()
    clear_context()


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="DEBUG", json=True, stream=stream)
    yield stream
    configure_logging(level="INFO", json=True, stream=sys.stderr)


def test_secret_object_never_shows_its_value() -> None:
    secret = Secret(API_SECRET)
    assert secret.reveal() == API_SECRET
    for text in (repr(secret), str(secret), f"{secret}", repr({"k": secret}), repr([secret])):
        assert API_SECRET not in text
    assert Secret(API_SECRET) == secret
    with pytest.raises(TypeError):
        __import__("pickle").dumps(secret)


def test_scrub_replaces_registered_values_and_their_url_encodings() -> None:
    password = "p@ss/w:rd#99"
    register_secret(password)
    register_secret(API_SECRET)
    url = "socks5://user:p%40ss%2Fw%3Ard%2399@10.0.0.1:1080"
    assert scrub(f"{url} and {API_SECRET}!") == f"socks5://user:{MASK}@10.0.0.1:1080 and {MASK}!"


def test_short_values_are_not_scrubbed_everywhere() -> None:
    register_secret("1")
    assert scrub("order 1 of 10") == "order 1 of 10"


def test_redact_masks_by_key_name_at_any_depth() -> None:
    data = {"venue": "binance", "auth": {"api_key": "k", "nested": [{"passphrase": "p"}]}}
    assert redact(data) == {
        "venue": "binance",
        "auth": {"api_key": MASK, "nested": [{"passphrase": MASK}]},
    }


def test_log_lines_carry_context_and_mask_secret_keys(log_stream: io.StringIO) -> None:
    bind_context(bot="grid-1")
    log = get_logger("test", venue="binance", symbol="BTC")
    log.info("signed request", api_secret=API_SECRET, headers={"X-MBX-APIKEY": "abc"}, qty="1.5")
    line = json.loads(log_stream.getvalue().splitlines()[-1])
    assert line["event"] == "signed request"
    assert (line["bot"], line["venue"], line["symbol"]) == ("grid-1", "binance", "BTC")
    assert line["api_secret"] == MASK
    assert line["headers"] == {"X-MBX-APIKEY": MASK}
    assert line["qty"] == "1.5"


def test_registered_value_is_scrubbed_from_messages_tracebacks_and_stdlib_logs(
    log_stream: io.StringIO,
) -> None:
    register_secret(PRIVATE_KEY)
    log = get_logger("test")
    log.warning(f"signing with {PRIVATE_KEY}")
    log.info("payload", body={"note": f"key={PRIVATE_KEY}"})
    try:
        raise ValueError(f"bad key {PRIVATE_KEY}")
    except ValueError:
        log.exception("signing failed")
    logging.getLogger("aiohttp.client").error(
        "request to %s failed", f"https://x/?sig={PRIVATE_KEY}"
    )
    output = log_stream.getvalue()
    assert PRIVATE_KEY not in output
    assert output.count(MASK) >= 4
    assert "signing failed" in output
    assert "ValueError" in output


def test_console_renderer_is_scrubbed_too() -> None:
    register_secret(API_SECRET)
    stream = io.StringIO()
    configure_logging(level="INFO", json=False, stream=stream)
    try:
        try:
            {"secret": API_SECRET}["missing"]
        except KeyError:
            structlog.get_logger("t").exception("lookup failed", data=f"[{API_SECRET}]")
    finally:
        configure_logging(level="INFO", json=True, stream=sys.stderr)
    assert API_SECRET not in stream.getvalue()
    assert "lookup failed" in stream.getvalue()


def test_uncaught_exception_traceback_is_scrubbed() -> None:
    program = f"""
from core.logging_setup import install_excepthook
from core.redaction import Secret
install_excepthook()
key = Secret({PRIVATE_KEY!r})
raise RuntimeError("venue rejected key " + key.reveal())
"""
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert "RuntimeError: venue rejected key ***" in result.stderr
    assert PRIVATE_KEY not in result.stderr


def test_log_level_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_logging(level="LOUD")


def test_json_is_chosen_when_not_a_terminal(log_stream: io.StringIO) -> None:
    configure_logging(level="INFO", stream=log_stream)
    get_logger("t").info("hello", n=1)
    assert json.loads(log_stream.getvalue().splitlines()[-1])["n"] == 1


def _naive_scrub(text: str, values: list[str]) -> str:
    """Reference: at each position replace the longest registered value starting there."""
    out, i = [], 0
    ordered = sorted(values, key=len, reverse=True)
    while i < len(text):
        match = next((v for v in ordered if text.startswith(v, i)), None)
        if match is None:
            out.append(text[i])
            i += 1
        else:
            out.append(MASK)
            i += len(match)
    return "".join(out)


@st.composite
def secrets_and_text(draw: st.DrawFn) -> tuple[list[str], str]:
    """Secrets where one is a prefix of another, and text built from their fragments."""
    alphabet = "abc/:@"
    base = draw(st.text(alphabet=alphabet, min_size=6, max_size=8))
    longer = base + draw(st.text(alphabet=alphabet, min_size=1, max_size=3))
    others = draw(st.lists(st.text(alphabet=alphabet, min_size=6, max_size=9), max_size=3))
    values = [base, longer, *others]
    fragments = st.sampled_from([*values, base[:3], longer[-4:], " ", "a", "%"])
    text = "".join(draw(st.lists(fragments, max_size=12)))
    return values, text


@settings(max_examples=300, deadline=None)
@given(case=secrets_and_text())
def test_scrub_matches_the_longest_first_reference(case: tuple[list[str], str]) -> None:
    values, text = case
    forget_all_secrets()
    variants: set[str] = set()
    for value in values:
        register_secret(value)
        variants |= {value, quote(value, safe=""), quote_plus(value)}
    registered = [v for v in variants if len(v) >= 6]
    assert scrub(text) == _naive_scrub(text, registered)


def test_logger_created_before_configuration_follows_it() -> None:
    early = get_logger("early", venue="paper")
    stream = io.StringIO()
    configure_logging(level="WARNING", json=True, stream=stream)
    try:
        early.info("below the level")
        early.warning("kept", api_key=API_SECRET)
    finally:
        configure_logging(level="INFO", json=True, stream=sys.stderr)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["event"], line["venue"], line["api_key"]) for line in lines] == [
        ("kept", "paper", MASK)
    ]
