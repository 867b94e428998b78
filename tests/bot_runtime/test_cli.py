"""``runbot.py`` through a real subprocess: valid configs, and one exact line per user mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from core.venues import known_venue_names
from tests.helpers import run_cli

VALID_GRID = """\
name: grid-test
strategy:
  type: grid
  params:
    exchange: paper
    ticker: BTC
    direction: buy
    order_notional_usd: 100
    target_leverage: 5
    take_profit: 0.8
    grid_step: 0.25
    max_orders: 10
    max_margin_usd: 250
exchanges:
  paper: {}
"""


def write(tmp_path: Path, text: str, name: str = "bot.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def edit(original: str, old: str, new: str) -> str:
    assert old in original, f"test setup: {old!r} not in the base config"
    return original.replace(old, new, 1)


# (case id, config text, extra env, exact stderr lines with {file} for the path)
BAD_CONFIGS = [
    (
        "unknown-key",
        edit(VALID_GRID, "    max_orders: 10", "    max_orders: 10\n    max_ordrs: 3"),
        {},
        ["{file}:13: strategy.params.max_ordrs: unknown key (did you mean 'max_orders'?)"],
    ),
    (
        "unknown-top-level-key",
        VALID_GRID + "risc:\n  max_open_positions: 1\n",
        {},
        [
            "{file}:16: risc: unknown key (did you mean 'risk'?)",
        ],
    ),
    (
        "wrong-type",
        edit(VALID_GRID, "max_orders: 10", "max_orders: many"),
        {},
        ["{file}:12: strategy.params.max_orders: expected an integer, found 'many'"],
    ),
    (
        "missing-field",
        edit(VALID_GRID, "    ticker: BTC\n", ""),
        {},
        [
            "{file}:4: strategy.params.ticker: missing required field: "
            "expected a string (base asset, e.g. BTC)"
        ],
    ),
    (
        "bad-yaml-syntax",
        edit(VALID_GRID, "    ticker: BTC", "    ticker: [BTC"),
        {},
        ["{file}:7:14: invalid YAML: expected ',' or ']', but got ':'"],
    ),
    (
        "missing-env-var",
        edit(VALID_GRID, "ticker: BTC", "ticker: ${GRID_TICKER}"),
        {},
        [
            "{file}:6: strategy.params.ticker: environment variable GRID_TICKER is not set "
            "(set it, or write ${GRID_TICKER:-default})"
        ],
    ),
    (
        "negative-size",
        edit(VALID_GRID, "order_notional_usd: 100", "order_notional_usd: -5"),
        {},
        [
            "{file}:8: strategy.params.order_notional_usd: "
            "expected a number greater than 0, found -5"
        ],
    ),
    (
        "unknown-venue",
        edit(VALID_GRID, "  paper: {}", "  paper: {}\n  binanse:\n    account: main"),
        {},
        [
            "{file}:16: exchanges.binanse: unknown venue 'binanse' (did you mean 'binance'?): "
            f"expected one of {', '.join(known_venue_names())}"
        ],
    ),
    (
        "unknown-strategy",
        edit(VALID_GRID, "type: grid", "type: gird"),
        {},
        [
            "{file}:3: strategy.type: unknown strategy 'gird' (did you mean 'grid'?): "
            "expected one of 'funding_arbitrage', 'grid', 'l2_imbalance', 'signal_portfolio'"
        ],
    ),
    (
        "literal-choice",
        edit(VALID_GRID, "direction: buy", "direction: long"),
        {},
        ["{file}:7: strategy.params.direction: expected one of 'buy' or 'sell', found 'long'"],
    ),
    (
        "duplicate-key",
        edit(VALID_GRID, "    max_orders: 10", "    max_orders: 10\n    max_orders: 20"),
        {},
        ["{file}:13: strategy.params.max_orders: duplicate key (first defined on line 12)"],
    ),
    (
        "venue-not-configured",
        edit(VALID_GRID, "exchange: paper", "exchange: hyperliquid"),
        {},
        [
            "{file}:5: strategy.params.exchange: expected a venue configured under exchanges "
            "('paper'), found 'hyperliquid'"
        ],
    ),
    (
        "secret-in-config",
        edit(VALID_GRID, "  paper: {}", "  paper:\n    api_secret: s3cr3t-value-123"),
        {},
        [
            "{file}:16: exchanges.paper.api_secret: unknown key; credentials never belong in "
            "config files: store them with "
            "`python -m database accounts add --name NAME --venue VENUE` "
            "and name the account under exchanges.<venue>.account"
        ],
    ),
    (
        "bad-env-override",
        VALID_GRID,
        {"PERPFLEET__RISK__MAX_OPEN_POSITIONS": "-1"},
        [
            "{file} (env PERPFLEET__RISK__MAX_OPEN_POSITIONS): risk.max_open_positions: "
            "expected a number of at least 1, found -1"
        ],
    ),
    (
        "account-missing-for-real-venue",
        edit(
            edit(VALID_GRID, "exchange: paper", "exchange: hyperliquid"),
            "  paper: {}",
            "  hyperliquid: {}",
        ),
        {},
        [
            "{file}:15: exchanges.hyperliquid.account: missing account: hyperliquid needs "
            "credentials; expected the name of a database account (add one with `python -m "
            "database accounts add --name NAME --venue hyperliquid`, or pass --account NAME)"
        ],
    ),
    (
        "inconsistent-grid",
        edit(VALID_GRID, "max_margin_usd: 250", "max_margin_usd: 10"),
        {},
        [
            "{file}:4: strategy.params: max_margin_usd 10 is below the margin of one order "
            "(order_notional_usd / target_leverage = 20)"
        ],
    ),
    (
        "empty-file",
        "",
        {},
        ["{file}: the file is empty; expected a mapping with name, strategy and exchanges"],
    ),
    (
        "not-a-mapping",
        "- name: grid\n",
        {},
        ["{file}:1: expected a mapping at the top level, found a list"],
    ),
    (
        "several-problems-at-once",
        edit(
            edit(VALID_GRID, "name: grid-test", "name: Grid Test"),
            "grid_step: 0.25",
            "grid_step: 0",
        ),
        {},
        [
            "{file}:1: name: expected a name of lowercase letters, digits, '-' and '_' "
            "(at most 63 characters), found 'Grid Test'",
            "{file}:11: strategy.params.grid_step: expected a number greater than 0, found 0",
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [pytest.param(text, env, expected, id=case) for case, text, env, expected in BAD_CONFIGS],
)
def test_bad_config_prints_exact_lines_and_exits_2(
    tmp_path: Path, text: str, env: dict[str, str], expected: list[str]
) -> None:
    path = write(tmp_path, text)
    result = run_cli(["runbot.py", "--config", str(path), "--check"], tmp_path / "var", env)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line.replace("{file}", str(path)) for line in expected]
    assert "Traceback" not in result.stderr


def test_bad_config_never_echoes_a_secret_value(tmp_path: Path) -> None:
    secret = "s3cr3t-value-123"
    path = write(tmp_path, edit(VALID_GRID, "  paper: {}", f"  paper:\n    api_secret: {secret}"))
    result = run_cli(["runbot.py", "--config", str(path), "--check"], tmp_path / "var")
    assert result.returncode == 2
    assert secret not in result.stderr + result.stdout


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    result = run_cli(["runbot.py", "--config", str(missing), "--check"], tmp_path / "var")
    assert (result.returncode, result.stderr) == (2, f"{missing}: file not found\n")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--control-api-port", "80"],
            "runbot.py: error: argument --control-api-port: expected a port from 1024 to 65535, "
            "found 80 (see --help)",
        ),
        (
            ["--log-level", "LOUD"],
            "runbot.py: error: argument --log-level: expected one of DEBUG, INFO, WARNING, ERROR, "
            "CRITICAL, found 'LOUD' (see --help)",
        ),
        ([], "runbot.py: error: the following arguments are required: --config (see --help)"),
    ],
)
def test_bad_flags_are_one_line(tmp_path: Path, flags: list[str], message: str) -> None:
    result = run_cli(["runbot.py", *flags], tmp_path / "var")
    assert (result.returncode, result.stderr.splitlines()) == (2, [message])


def test_valid_config_prints_summary_and_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_GRID)
    result = run_cli(["runbot.py", "--config", str(path), "--check"], tmp_path / "var")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}: OK"
    assert "  bot:         grid-test" in lines
    assert any(line.startswith("  strategy:    grid: long BTC on paper: 100 USD") for line in lines)
    assert (
        "  exchanges:   paper (no credentials needed, simulated wallet 'paper:grid-test')" in lines
    )
    assert result.stderr == ""


def test_check_names_the_paper_wallet_an_account_flag_selects(tmp_path: Path) -> None:
    """`--account X` on a paper config trades the simulated wallet X: --check says so."""
    path = write(tmp_path, VALID_GRID)
    result = run_cli(
        ["runbot.py", "--config", str(path), "--check", "--account", "nosuch"], tmp_path / "var"
    )
    assert result.returncode == 0, result.stderr
    assert "  exchanges:   paper (no credentials needed, simulated wallet 'nosuch')" in (
        result.stdout.splitlines()
    )


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_GRID + "control_api: {enabled: false, port: 9000}\n")
    result = run_cli(
        [
            "runbot.py",
            "--config",
            str(path),
            "--check",
            "--enable-control-api",
            "--control-api-port",
            "9123",
        ],
        tmp_path / "var",
    )
    assert result.returncode == 0, result.stderr
    assert "  control API: enabled on 127.0.0.1:9123" in result.stdout
