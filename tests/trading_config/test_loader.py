"""Loading configs: exact numbers, interpolation, overrides, located errors, save/load."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from strategies.grid.params import GridParams
from trading_config import BotConfig, CliOverrides, dump_config, load_config, save_config
from trading_config.yaml_source import parse_scalar_text

BASE = """\
name: grid-test
strategy:
  type: grid
  params:
    exchange: paper
    ticker: btc
    direction: sell
    order_notional_usd: 100.10
    target_leverage: 3
    take_profit: 0.1
    grid_step: 0.30
    max_orders: 4
    max_margin_usd: 500
exchanges:
  paper:
"""


def load_text(tmp_path: Path, text: str, **kwargs: object) -> BotConfig:
    path = tmp_path / "bot.yml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, **kwargs)  # type: ignore[arg-type]


def problems_of(tmp_path: Path, text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text, **kwargs)
    prefix = f"{tmp_path / 'bot.yml'}"
    return [line.replace(prefix, "F") for line in caught.value.problems]


def grid(config: BotConfig) -> GridParams:
    assert isinstance(config.strategy.params, GridParams)
    return config.strategy.params


def test_numbers_are_exact_decimals_never_floats(tmp_path: Path) -> None:
    params = grid(load_text(tmp_path, BASE))
    assert params.take_profit == Decimal("0.1")
    assert str(params.order_notional_usd) == "100.10"
    assert params.take_profit + Decimal("0.2") == Decimal("0.3")
    assert params.ticker == "BTC"
    assert type(params.max_orders) is int


def test_empty_venue_section_means_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, BASE)
    assert config.exchanges["paper"].account is None
    assert config.exchanges["paper"].testnet is False


def test_interpolation_from_environment(tmp_path: Path) -> None:
    text = BASE.replace("ticker: btc", "ticker: ${TICKER:-eth}").replace(
        "max_orders: 4", "max_orders: ${ORDERS}"
    )
    params = grid(load_text(tmp_path, text, env={"ORDERS": "7"}))
    assert (params.ticker, params.max_orders) == ("ETH", 7)


def test_invalid_interpolated_value_names_the_variable(tmp_path: Path) -> None:
    text = BASE.replace("max_orders: 4", "max_orders: ${ORDERS}")
    assert problems_of(tmp_path, text, env={"ORDERS": "lots"}) == [
        "F:12: strategy.params.max_orders: expected an integer, found 'lots' (value from ${ORDERS})"
    ]


def test_env_overrides_win_over_the_file_and_keep_exact_numbers(tmp_path: Path) -> None:
    env = {
        "PERPFLEET__STRATEGY__PARAMS__TAKE_PROFIT": "0.35",
        "PERPFLEET__RISK__MAX_OPEN_POSITIONS": "2",
        "PERPFLEET__EXCHANGES__PAPER__TESTNET": "true",
        "UNRELATED": "x",
    }
    config = load_text(tmp_path, BASE, env=env)
    assert grid(config).take_profit == Decimal("0.35")
    assert config.risk.max_open_positions == 2
    assert config.exchanges["paper"].testnet is True


def test_env_override_of_a_list(tmp_path: Path) -> None:
    text = """\
name: arb
strategy:
  type: funding_arbitrage
  params:
    venues: [paper, hyperliquid]
    target_margin_usd: 100
exchanges:
  paper: {}
  hyperliquid: {account: main}
  lighter: {account: main}
"""
    config = load_text(
        tmp_path, text, env={"PERPFLEET__STRATEGY__PARAMS__VENUES": "[hyperliquid, lighter]"}
    )
    assert config.strategy.params.venue_references() == {
        ("venues", 0): "hyperliquid",
        ("venues", 1): "lighter",
    }


def test_env_override_through_a_scalar_is_reported(tmp_path: Path) -> None:
    assert problems_of(tmp_path, BASE, env={"PERPFLEET__NAME__FIRST": "x"}) == [
        "F (env PERPFLEET__NAME__FIRST): name.first: cannot set it because name is not a mapping"
    ]


def test_malformed_env_override_name_is_reported(tmp_path: Path) -> None:
    assert problems_of(tmp_path, BASE, env={"PERPFLEET__RISK____X": "1"}) == [
        "F (env PERPFLEET__RISK____X): expected PERPFLEET__SECTION__KEY with non-empty parts "
        "separated by double underscores"
    ]


def test_cli_overrides_win_over_env(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        BASE,
        env={"PERPFLEET__CONTROL_API__PORT": "9000", "PERPFLEET__LOGGING__LEVEL": "debug"},
        cli=CliOverrides(control_api_port=9001, enable_control_api=True, log_level="WARNING"),
    )
    assert (config.control_api.enabled, config.control_api.port) == (True, 9001)
    assert config.logging.level == "WARNING"


def test_error_from_a_cli_flag_names_the_flag(tmp_path: Path) -> None:
    assert problems_of(tmp_path, BASE, cli=CliOverrides(control_api_port=80)) == [
        "F (--control-api-port): control_api.port: expected a number of at least 1024, found 80"
    ]


def test_unknown_key_without_a_close_match_lists_the_accepted_keys(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "zzz: 1\n" + BASE) == [
        "F:1: zzz: unknown key: expected one of name, strategy, exchanges, risk, execution, "
        "control_api, logging, reconciliation"
    ]


def test_merge_key_values_are_used_and_explicit_keys_win(tmp_path: Path) -> None:
    text = """\
name: arb
strategy:
  type: funding_arbitrage
  params: &p {venues: [hyperliquid, lighter], target_margin_usd: 50}
exchanges:
  hyperliquid: &acct {account: main, testnet: true}
  lighter:
    <<: *acct
    testnet: false
"""
    config = load_text(tmp_path, text)
    assert config.exchanges["lighter"].account == "main"
    assert config.exchanges["lighter"].testnet is False


def test_nan_and_infinity_are_rejected(tmp_path: Path) -> None:
    text = BASE.replace("take_profit: 0.1", "take_profit: .nan")
    assert problems_of(tmp_path, text) == [
        "F:10: strategy.params.take_profit: expected a number, found '.nan'"
    ]


def test_secret_under_unknown_key_is_not_echoed(tmp_path: Path) -> None:
    text = BASE.replace("  paper:\n", "  paper:\n    private_key: 0xdeadbeefcafe\n")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert "0xdeadbeefcafe" not in problems[0]
    assert problems[0].startswith("F:16: exchanges.paper.private_key: unknown key; credentials")


def test_control_api_is_loopback_only(tmp_path: Path) -> None:
    ok = load_text(tmp_path, BASE + "control_api: {enabled: true, host: '::1'}\n")
    assert ok.control_api.host == "::1"
    assert problems_of(tmp_path, BASE + "control_api: {host: 10.0.0.5}\n") == [
        "F:16: control_api.host: expected a loopback address such as 127.0.0.1 (the control API "
        "is never exposed to the network), found '10.0.0.5'"
    ]


def test_saved_config_loads_back_equal(tmp_path: Path) -> None:
    config = load_text(tmp_path, BASE + "risk: {max_drawdown_pct: 12.5}\nlogging: {json: true}\n")
    target = tmp_path / "out" / "saved.yml"
    save_config(config, target)
    assert load_config(target) == config
    assert "12.5" in target.read_text()


@settings(max_examples=60, deadline=None)
@given(
    notional=st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e12"), places=8),
    step=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("50"), places=4),
)
def test_dump_load_round_trip_keeps_every_digit(
    tmp_path_factory: pytest.TempPathFactory, notional: Decimal, step: Decimal
) -> None:
    tmp = tmp_path_factory.mktemp("rt")
    text = BASE.replace("order_notional_usd: 100.10", f"order_notional_usd: {notional}")
    text = text.replace("grid_step: 0.30", f"grid_step: {step}")
    text = text.replace("max_margin_usd: 500", "max_margin_usd: 1e13")
    config = load_text(tmp, text)
    (tmp / "again.yml").write_text(dump_config(config), encoding="utf-8")
    again = load_config(tmp / "again.yml")
    assert grid(again).order_notional_usd == notional
    assert grid(again).grid_step == step
    assert again == config


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("0.5", Decimal("0.5")),
        ("true", True),
        ("[a, b]", ["a", "b"]),
        ("hello", "hello"),
        ("{a: 1}", {"a": 1}),
        ("[unclosed", "[unclosed"),
        ("", None),
    ],
)
def test_override_values_parse_like_yaml(text: str, value: object) -> None:
    assert parse_scalar_text(text) == value


def test_paper_venues_can_follow_a_real_venues_market_data(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        BASE + "    market_data:\n      source: hyperliquid\n      symbols: [BTC, ETH]\n",
    )
    market_data = config.exchanges["paper"].market_data
    assert market_data is not None
    assert (market_data.source, market_data.symbols, market_data.testnet) == (
        "hyperliquid",
        ("BTC", "ETH"),
        False,
    )


def test_market_data_is_refused_on_real_venues_and_unknown_sources(tmp_path: Path) -> None:
    text = BASE.replace("exchange: paper", "exchange: binance").replace(
        "exchanges:\n  paper:\n", "exchanges:\n  binance:\n    account: main\n"
    )
    assert problems_of(tmp_path, text + "    market_data:\n      source: hyperliquid\n") == [
        "F:17: exchanges.binance.market_data: market_data applies to paper venues only; "
        "binance trades its own market"
    ]
    problems = problems_of(tmp_path, BASE + "    market_data:\n      source: bitmex\n")
    assert len(problems) == 1
    assert "exchanges.paper.market_data.source" in problems[0]
    assert (
        "one of 'synthetic', 'aster', 'backpack', 'binance', 'hyperliquid' or 'lighter'"
        in problems[0]
    )


def test_real_venues_take_api_and_websocket_url_overrides(tmp_path: Path) -> None:
    text = BASE.replace("exchange: paper", "exchange: binance").replace(
        "exchanges:\n  paper:\n", "exchanges:\n  binance:\n    account: main\n"
    )
    config = load_text(
        tmp_path,
        text + "    api_url: https://fapi.example.com/\n    ws_url: wss://fstream.example.com\n",
    )
    binance = config.exchanges["binance"]
    assert (binance.api_url, binance.ws_url) == (
        "https://fapi.example.com",
        "wss://fstream.example.com",
    )
    assert problems_of(tmp_path, text + "    api_url: fapi.example.com\n") == [
        "F:17: exchanges.binance.api_url: expected a URL starting with https:// or http://"
    ]
    assert problems_of(tmp_path, BASE + "    ws_url: wss://x.example.com\n") == [
        "F:16: exchanges.paper.ws_url: ws_url applies to real venues only; paper is simulated"
    ]
