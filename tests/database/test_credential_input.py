"""Collecting credentials for ``accounts add``: --set, --from-env and hidden prompts."""

from __future__ import annotations

import pytest

from core.venues import VENUES
from database.credential_input import collect_credentials, env_var_name
from database.errors import InvalidInput


def _no_prompt(_label: str) -> str:
    raise AssertionError("must not prompt")


def test_env_var_names() -> None:
    assert env_var_name("binance", "api_secret") == "PERPFLEET_BINANCE_API_SECRET"


def test_from_env_reads_every_field() -> None:
    public, secrets = collect_credentials(
        VENUES["lighter"],
        assignments=[],
        from_env=True,
        environ={
            "PERPFLEET_LIGHTER_API_KEY_PRIVATE_KEY": " 0x" + "abc123" * 13 + "ab \n",
            "PERPFLEET_LIGHTER_ACCOUNT_INDEX": "5",
            "PERPFLEET_LIGHTER_API_KEY_INDEX": "1",
        },
        prompt=_no_prompt,
    )
    assert public == {"account_index": "5", "api_key_index": "1"}
    assert {k: v.reveal() for k, v in secrets.items()} == {
        "api_key_private_key": "0x" + "abc123" * 13 + "ab"
    }


def test_prompts_only_for_secret_fields() -> None:
    asked: list[str] = []

    def prompt(label: str) -> str:
        asked.append(label)
        return {0: "key-value-1", 1: "secret-value-2"}[len(asked) - 1]

    public, secrets = collect_credentials(
        VENUES["binance"],
        assignments=["sub_account_email=a@b.c"],
        from_env=False,
        environ={},
        prompt=prompt,
    )
    assert public == {"sub_account_email": "a@b.c"}
    assert {k: v.reveal() for k, v in secrets.items()} == {
        "api_key": "key-value-1",
        "api_secret": "secret-value-2",
    }
    assert asked == [
        "Binance USD-M Futures API key (api_key): ",
        "Binance USD-M Futures API secret (api_secret): ",
    ]


def test_optional_secret_can_be_skipped() -> None:
    public, secrets = collect_credentials(
        VENUES["aster"],
        assignments=["user=0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"],
        from_env=False,
        environ={},
        prompt=lambda label: "hmac-key-value" if "(api_key," in label else "",
    )
    assert public == {"user": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}
    assert list(secrets) == ["api_key"]


@pytest.mark.parametrize(
    ("venue", "assignments", "from_env", "message"),
    [
        (
            "binance",
            ["api_secret=oops"],
            False,
            "'api_secret' is secret and cannot be given on the command line",
        ),
        ("binance", ["nonsense"], False, "--set expects FIELD=VALUE"),
        ("binance", ["color=blue"], False, "binance has no non-secret credential field 'color'"),
        (
            "lighter",
            ["account_index=1"],
            False,
            "missing required lighter field 'api_key_index' (API key index): "
            "pass --set api_key_index=VALUE",
        ),
        (
            "binance",
            [],
            True,
            "missing required binance field 'api_key' (API key): set PERPFLEET_BINANCE_API_KEY",
        ),
    ],
)
def test_mistakes_are_reported_before_prompting(
    venue: str, assignments: list[str], from_env: bool, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        collect_credentials(
            VENUES[venue], assignments=assignments, from_env=from_env, environ={}, prompt=_no_prompt
        )
    assert str(caught.value) == message or message in str(caught.value)


def test_empty_required_secret_at_the_prompt() -> None:
    with pytest.raises(InvalidInput, match="missing required binance field 'api_key'"):
        collect_credentials(
            VENUES["binance"], assignments=[], from_env=False, environ={}, prompt=lambda _: "  "
        )


def test_no_terminal_input() -> None:
    def eof(_label: str) -> str:
        raise EOFError

    with pytest.raises(InvalidInput, match="run in a terminal or use --from-env"):
        collect_credentials(
            VENUES["binance"], assignments=[], from_env=False, environ={}, prompt=eof
        )
