"""``runbot.py --check`` verifies the accounts a config names, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

import strategies  # noqa: F401  (fills the params registry load_config reads, as runbot does)
from core.venues import VENUES
from database import display_url
from tests.helpers import PROJECT_ROOT, run_cli
from trading_config import load_config

API_KEY = "check-api-key-0123456789"
API_SECRET = "check-api-secret-abcdef-987654"

CONFIG = """\
name: arb-check
strategy:
  type: funding_arbitrage
  params:
    venues: [paper, binance]
    target_margin_usd: 100
exchanges:
  paper: {}
  binance:
    account: main
"""


def fresh_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "arb.yml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def check(config: Path, var: Path, env: dict[str, str]) -> tuple[int, str, str]:
    result = run_cli(["runbot.py", "--config", str(config), "--check"], var, env)
    return result.returncode, result.stdout, result.stderr


def add_account(var: Path, env: dict[str, str]) -> None:
    result = run_cli(
        ["-m", "database", "accounts", "add", "--name", "main", "--venue", "binance", "--from-env"],
        var,
        {**env, "PERPFLEET_BINANCE_API_KEY": API_KEY, "PERPFLEET_BINANCE_API_SECRET": API_SECRET},
    )
    assert result.returncode == 0, result.stderr


def test_uninitialised_database_is_reported(tmp_path: Path, db_url: str, config_file: Path) -> None:
    code, out, err = check(config_file, tmp_path / "var", {"DATABASE_URL": db_url})
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"{config_file}: database at {display(db_url)} is not initialised; "
        "run `python -m database init`"
    ]


def test_missing_credentials_point_at_the_config_line_and_the_fix(
    tmp_path: Path, migrated_db_url: str, config_file: Path
) -> None:
    code, _, err = check(config_file, tmp_path / "var", {"DATABASE_URL": migrated_db_url})
    assert (code, err.splitlines()) == (
        2,
        [
            f"{config_file}:10: exchanges.binance.account: unknown account 'main'; add it with "
            "`python -m database accounts add --name main --venue VENUE`"
        ],
    )


def test_stored_credentials_pass_and_a_wrong_key_fails_without_leaking(
    tmp_path: Path, migrated_db_url: str, config_file: Path
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    add_account(var, env)

    code, out, err = check(config_file, var, env)
    assert code == 0, err
    assert "binance (account main, credentials found)" in out

    wrong = {**env, "PERPFLEET_MASTER_KEY": fresh_key()}
    code, out, err = check(config_file, var, wrong)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"{config_file}:10: exchanges.binance.account: the active master key "
        "(PERPFLEET_MASTER_KEY, fingerprint "
    )
    for secret in (API_KEY, API_SECRET, env["PERPFLEET_MASTER_KEY"], wrong["PERPFLEET_MASTER_KEY"]):
        assert secret not in out + err


def test_debug_logs_of_a_check_never_contain_the_credentials(
    tmp_path: Path, migrated_db_url: str, config_file: Path
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    add_account(var, env)
    result = run_cli(
        ["runbot.py", "--config", str(config_file), "--check", "--log-level", "DEBUG"], var, env
    )
    assert result.returncode == 0, result.stderr
    assert API_SECRET not in result.stdout + result.stderr
    assert API_KEY not in result.stdout + result.stderr


def test_account_flag_replaces_the_configured_account(
    tmp_path: Path, migrated_db_url: str, config_file: Path
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    add_account(var, env)
    config_file.write_text(CONFIG.replace("account: main", "account: other"), encoding="utf-8")
    assert check(config_file, var, env)[0] == 2
    result = run_cli(
        ["runbot.py", "--config", str(config_file), "--check", "--account", "main"], var, env
    )
    assert result.returncode == 0, result.stderr
    assert "binance (account main, credentials found)" in result.stdout


# A well-formed value of each credential format (accounts add checks formats).
SAMPLE_VALUES = {
    "evm_address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "evm_private_key": "0x" + "5a" * 32,
    "lighter_private_key": "3c" * 40,
    "ed25519_base64": base64.b64encode(bytes(range(32))).decode(),
    "non_negative_int": "12",
    "api_key_index": "3",
    "email": "sub@example.com",
    "token": "token-123456",
}


@pytest.mark.parametrize("config", sorted((PROJECT_ROOT / "configs").glob("*.yml")), ids=str)
def test_shipped_example_configs_pass_check_once_their_accounts_exist(
    tmp_path: Path, migrated_db_url: str, config: Path
) -> None:
    var = tmp_path / "var"
    env = {"DATABASE_URL": migrated_db_url, "PERPFLEET_MASTER_KEY": fresh_key()}
    for venue, exchange in load_config(config).exchanges.items():
        if not VENUES[venue].needs_credentials:
            continue
        assert exchange.account is not None
        fields = {
            f"PERPFLEET_{venue.upper()}_{field.name.upper()}": SAMPLE_VALUES[field.format]
            for field in VENUES[venue].credential_fields
            if field.secret or field.required
        }
        result = run_cli(
            [
                "-m",
                "database",
                "accounts",
                "add",
                "--name",
                exchange.account,
                "--venue",
                venue,
                "--from-env",
            ],
            var,
            {**env, **fields},
        )
        assert result.returncode == 0, result.stderr
    result = run_cli(["runbot.py", "--config", str(config), "--check"], var, env)
    assert result.returncode == 0, result.stderr


def display(url: str) -> str:
    return display_url(url)
