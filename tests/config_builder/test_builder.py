"""The interactive config builder: prompts from schemas, answer checks, the file it writes.

Most of it is tested without a terminal: the prompt specs and answer parsing are pure, and
the question flow runs on a scripted :class:`Prompter`. A few tests drive the real
``python -m config_builder`` through a pseudo-terminal (pexpect), as a user would,
and hand the file written to ``runbot.py --check``.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pexpect
import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from config_builder.prompts import (
    UNSET_ACCOUNT,
    BuilderAnswers,
    ExchangeChoice,
    build_config,
    check_round_trip,
    config_data,
    render_config,
    summary_lines,
)
from config_builder.terminal import (
    CANCELLED,
    AccountDirectory,
    accounts_with_credentials,
    fetch_accounts,
    run,
)
from core.errors import ConfigError
from database.repositories.accounts import AccountSummary, CredentialSummary
from strategies.funding_arbitrage.params import FundingArbitrageParams
from strategies.grid.params import GridParams
from tests.database.conftest import add_binance
from tests.helpers import PROJECT_ROOT, cli_env, run_cli
from trading_config import BotConfig, CliOverrides, load_config
from trading_config.questions import (
    MISSING,
    ModelProblem,
    Option,
    PromptSpec,
    ValueKind,
    Widget,
    check_answer,
    fields_to_ask_again,
    format_value,
    model_problems,
    parse_text,
    specs_for_model,
)
from trading_config.schema import RiskConfig
from trading_config.strategy_params import find_strategy_params, registered_strategies

GRID_ANSWERS: dict[str, Any] = {
    "exchange": "paper",
    "ticker": "btc",
    "direction": "buy",
    "order_notional_usd": Decimal(100),
    "target_leverage": Decimal(10),
    "take_profit": Decimal("0.6"),
    "grid_step": Decimal("0.25"),
    "max_orders": 8,
    "max_margin_usd": Decimal(100),
}


def spec_of(model: type[Any], name: str) -> PromptSpec:
    return {spec.field: spec for spec in specs_for_model(model)}[name]


# -- prompt specs from the schemas ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "widget", "kind", "default", "required", "optional"),
    [
        ("exchange", Widget.SELECT, ValueKind.CHOICE, None, True, False),
        ("ticker", Widget.TEXT, ValueKind.STRING, None, True, False),
        ("direction", Widget.SELECT, ValueKind.CHOICE, None, True, False),
        ("order_notional_usd", Widget.TEXT, ValueKind.DECIMAL, None, True, False),
        ("max_orders", Widget.TEXT, ValueKind.INTEGER, None, True, False),
        ("wait_time", Widget.TEXT, ValueKind.DECIMAL, Decimal(10), False, False),
        ("stop_loss_enabled", Widget.CONFIRM, ValueKind.BOOLEAN, False, False, False),
        ("stop_loss_percentage", Widget.TEXT, ValueKind.DECIMAL, None, False, True),
        ("position_timeout_minutes", Widget.TEXT, ValueKind.INTEGER, None, False, True),
        ("recovery_mode", Widget.SELECT, ValueKind.CHOICE, "none", False, False),
    ],
)
def test_grid_fields_get_the_widget_of_their_type(
    name: str, widget: Widget, kind: ValueKind, default: Any, required: bool, optional: bool
) -> None:
    spec = spec_of(GridParams, name)
    assert (spec.widget, spec.kind, spec.default, spec.required, spec.optional) == (
        widget,
        kind,
        default,
        required,
        optional,
    )


def test_grid_specs_follow_declaration_order_with_descriptions_and_hints() -> None:
    specs = specs_for_model(GridParams)
    assert [spec.field for spec in specs] == list(GridParams.model_fields)
    notional = spec_of(GridParams, "order_notional_usd")
    assert notional.message == "order_notional_usd: notional of each entry order, USD"
    assert notional.hint == "(number > 0)"
    assert spec_of(GridParams, "target_leverage").hint == "(number > 0, <= 200)"
    assert spec_of(GridParams, "stop_price").hint == "(number > 0; empty = unset)"
    assert [o.value for o in spec_of(GridParams, "direction").options] == ["buy", "sell"]
    recovery = spec_of(GridParams, "recovery_mode")
    assert [o.value for o in recovery.options] == ["aggressive", "hedge", "none"]


def test_venue_fields_offer_the_venue_catalogue() -> None:
    exchange = spec_of(GridParams, "exchange")
    venues = spec_of(FundingArbitrageParams, "venues")
    assert venues.widget is Widget.CHECKBOX
    assert venues.hint == "(choose at least 2)"
    for spec in (exchange, venues):
        values = [option.value for option in spec.options]
        assert values[:3] == ["paper", "paper_a", "paper_b"]
        assert {"binance", "hyperliquid"} <= set(values)
    paper = next(option for option in exchange.options if option.value == "paper")
    assert "no account needed" in paper.title


def test_funding_arbitrage_specs() -> None:
    symbols = spec_of(FundingArbitrageParams, "symbols")
    assert (symbols.widget, symbols.kind, symbols.optional) == (
        Widget.TEXT,
        ValueKind.STRING_LIST,
        True,
    )
    assert spec_of(FundingArbitrageParams, "target_margin_usd").required
    assert spec_of(FundingArbitrageParams, "max_spread_pct").default == Decimal("0.1")
    assert spec_of(FundingArbitrageParams, "max_positions").default == 1
    flip = spec_of(FundingArbitrageParams, "exit_on_divergence_flip")
    assert (flip.widget, flip.default) == (Widget.CONFIRM, True)


@pytest.mark.parametrize("strategy", registered_strategies())
def test_every_registered_strategy_gets_a_real_widget_for_each_field(strategy: str) -> None:
    """A new strategy with a field type the builder cannot prompt for shows up here."""
    schema = find_strategy_params(strategy)
    assert schema is not None
    assert all(spec.kind is not ValueKind.YAML for spec in specs_for_model(schema))


def test_optional_literal_and_bool_can_be_unset() -> None:
    class Sample(BaseModel):
        mode: Literal["a", "b"] | None = None
        flag: bool | None = None

    mode = spec_of(Sample, "mode")
    assert (mode.widget, mode.optional) == (Widget.SELECT, True)
    assert [option.value for option in mode.options] == ["a", "b", None]
    flag = spec_of(Sample, "flag")
    assert flag.widget is Widget.SELECT
    assert [option.value for option in flag.options] == [True, False, None]


# -- parsing and checking answers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("grid_step", "0.25", Decimal("0.25")),
        ("grid_step", " 0.250 ", Decimal("0.250")),
        ("grid_step", "1e3", Decimal(1000)),
        ("grid_step", "abc", "abc"),  # left for pydantic to report
        ("grid_step", "", MISSING),
        ("wait_time", "", Decimal(10)),
        ("stop_price", "", None),
        ("max_orders", "8", 8),
        ("max_orders", "2.5", "2.5"),
        ("ticker", " eth ", "eth"),
    ],
)
def test_parse_text(field: str, text: str, expected: Any) -> None:
    value = parse_text(spec_of(GridParams, field), text)
    assert value == expected
    assert type(value) is type(expected)


def test_parse_list_and_format_back() -> None:
    spec = spec_of(FundingArbitrageParams, "symbols")
    assert parse_text(spec, "btc, eth  sol") == ["btc", "eth", "sol"]
    assert parse_text(spec, "  ") is None
    assert format_value(spec, ["BTC", "ETH"]) == "BTC, ETH"
    assert format_value(spec_of(GridParams, "grid_step"), Decimal("0.25")) == "0.25"
    assert format_value(spec_of(GridParams, "stop_price"), None) == ""


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        (
            "order_notional_usd",
            "-5",
            "order_notional_usd: expected a number greater than 0, found -5",
        ),
        ("order_notional_usd", "abc", "order_notional_usd: expected a number, found 'abc'"),
        (
            "order_notional_usd",
            "",
            "order_notional_usd: missing required field: expected a number "
            "(notional of each entry order, USD)",
        ),
        ("target_leverage", "500", "target_leverage: expected a number of at most 200, found 500"),
        ("target_leverage", "nan", "target_leverage: expected a finite number"),
        ("max_orders", "0", "max_orders: expected a number of at least 1, found 0"),
        ("max_orders", "2.5", "max_orders: expected an integer, found '2.5'"),
        ("ticker", "b-tc", "ticker: expected a base asset symbol such as BTC"),
    ],
)
def test_a_bad_answer_gets_the_loaders_message(field: str, text: str, message: str) -> None:
    spec = spec_of(GridParams, field)
    problem = check_answer(GridParams, spec, parse_text(spec, text), GRID_ANSWERS)
    assert problem is not None
    assert problem.startswith(message)


@pytest.mark.parametrize(
    ("field", "text"),
    [("ticker", "eth"), ("grid_step", "0.25"), ("stop_price", ""), ("wait_time", "")],
)
def test_a_good_answer_passes(field: str, text: str) -> None:
    spec = spec_of(GridParams, field)
    assert check_answer(GridParams, spec, parse_text(spec, text), {}) is None


def test_field_validators_run_on_a_single_answer() -> None:
    venues = spec_of(FundingArbitrageParams, "venues")
    assert check_answer(FundingArbitrageParams, venues, ["paper_a", "paper_b"], {}) is None
    assert check_answer(FundingArbitrageParams, venues, ["paper_a"], {}) == (
        "venues: expected at least 2 item(s), found 1"
    )
    duplicate = check_answer(FundingArbitrageParams, venues, ["paper", "paper"], {})
    assert duplicate == "venues: expected distinct venues, found paper twice"


def test_bot_name_is_checked_against_the_schema_pattern() -> None:
    name = specs_for_model(BotConfig, ["name"])[0]
    assert check_answer(BotConfig, name, "grid-btc_1", {}) is None
    problem = check_answer(BotConfig, name, "Grid BTC", {})
    assert problem is not None
    assert problem.startswith("name: expected a name of lowercase letters, digits")


def test_cross_field_problems_name_the_fields_to_ask_again() -> None:
    specs = specs_for_model(GridParams)
    low_margin = {**GRID_ANSWERS, "max_margin_usd": Decimal(5)}
    problems = model_problems(GridParams, low_margin)
    assert len(problems) == 1
    assert problems[0].message.startswith("max_margin_usd 5 is below the margin of one order")
    assert fields_to_ask_again(specs, problems) == [
        "order_notional_usd",
        "target_leverage",
        "max_margin_usd",
    ]
    stop_loss = model_problems(GridParams, {**GRID_ANSWERS, "stop_loss_enabled": True})
    assert fields_to_ask_again(specs, stop_loss) == ["stop_loss_enabled", "stop_loss_percentage"]
    assert model_problems(GridParams, GRID_ANSWERS) == []


# -- answers -> config -> YAML ----------------------------------------------------------------


def grid_answers(**changes: Any) -> BuilderAnswers:
    base = BuilderAnswers(
        name="grid-test",
        strategy="grid",
        params=GRID_ANSWERS,
        exchanges={"paper": ExchangeChoice()},
        risk={"max_drawdown_pct": Decimal(20)},
        control_api={"enabled": False},
    )
    return BuilderAnswers(**{**base.__dict__, **changes})


def test_answers_make_a_valid_config() -> None:
    data = config_data(grid_answers())
    assert data["exchanges"] == {"paper": {}}
    config = BotConfig.model_validate(data)
    assert config.strategy.params == GridParams.model_validate(GRID_ANSWERS)
    assert config.risk.max_drawdown_pct == Decimal(20)


def test_written_yaml_is_exact_commented_and_loads_back(tmp_path: Path) -> None:
    config = build_config(grid_answers())
    path = tmp_path / "grid.yml"
    text = render_config(config, path=str(path), made_on=date(2025, 1, 2))
    assert text.startswith("# Bot 'grid-test', made with the interactive config builder\n")
    assert "python -m config_builder" in text
    assert f"python runbot.py --config {path} --check" in text
    assert "    grid_step: 0.25 " in text  # a Decimal, written as typed: no float, no quotes
    assert "    ticker: BTC " in text
    assert "# minimum distance between entries, % of price" in text
    assert "stop_price" not in text  # unset optional fields are left out
    assert "  max_drawdown_pct: 20\n" in text
    assert "control_api:\n  enabled: false\n" in text
    path.write_text(text, encoding="utf-8")
    assert load_config(path, env={}) == config
    assert check_round_trip(text, config, path=str(path)) == config


def test_dollar_signs_survive_interpolation(tmp_path: Path) -> None:
    answers = BuilderAnswers(
        name="arb-test",
        strategy="funding_arbitrage",
        params={
            "venues": ["paper_a", "paper_b"],
            "symbols": ["BTC", "$HOME", "1", "yes"],
            "target_margin_usd": Decimal("100.50"),
        },
        exchanges={"paper_a": ExchangeChoice(), "paper_b": ExchangeChoice()},
    )
    config = build_config(answers)
    text = render_config(config, path="arb.yml", made_on=date(2025, 1, 2))
    assert "venues: [paper_a, paper_b]" in text
    assert "target_margin_usd: 100.50" in text
    path = tmp_path / "arb.yml"
    path.write_text(text, encoding="utf-8")
    loaded = load_config(path, env={"HOME": "/root"})
    assert loaded.strategy.params == config.strategy.params
    assert isinstance(loaded.strategy.params, FundingArbitrageParams)
    assert loaded.strategy.params.symbols == ["BTC", "$HOME", "1", "YES"]


def test_a_real_venue_without_account_is_written_for_runbot_account_flag(tmp_path: Path) -> None:
    answers = grid_answers(
        params={**GRID_ANSWERS, "exchange": "binance"},
        exchanges={"binance": ExchangeChoice(account=None, testnet=True)},
    )
    config = build_config(answers)
    assert config.exchanges["binance"].account == UNSET_ACCOUNT
    path = tmp_path / "binance.yml"
    text = render_config(config, path=str(path), made_on=date(2025, 1, 2))
    assert UNSET_ACCOUNT not in text
    assert "python -m database accounts add --name NAME --venue binance" in text
    assert "  binance:\n    testnet: true\n" in text
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="missing account: binance needs credentials"):
        load_config(path, env={})
    with_flag = load_config(path, env={}, cli=CliOverrides(account="alice"))
    assert with_flag.exchanges["binance"].account == "alice"
    summary = summary_lines(str(path), config, answers)
    assert any("binance (no account yet: run with --account NAME, testnet)" in x for x in summary)


def test_summary_is_runbots_with_the_truth_about_accounts() -> None:
    answers = grid_answers(
        params={**GRID_ANSWERS, "exchange": "binance"},
        exchanges={"binance": ExchangeChoice(account="bob", credentials_found=False)},
    )
    lines = summary_lines("x.yml", build_config(answers), answers)
    assert lines[0] == "x.yml: OK"
    assert "binance (account bob, no binance credentials stored yet)" in lines[3]
    found = grid_answers(
        params={**GRID_ANSWERS, "exchange": "binance"},
        exchanges={"binance": ExchangeChoice(account="alice")},
    )
    assert (
        "binance (account alice, credentials found)"
        in summary_lines("x.yml", build_config(found), found)[3]
    )


def test_risk_specs_use_the_builders_descriptions() -> None:
    specs = specs_for_model(RiskConfig, ["max_drawdown_pct"], {"max_drawdown_pct": "kill at"})
    assert specs[0].message == "max_drawdown_pct: kill at"
    assert specs[0].hint == "(number > 0, <= 100; empty = unset)"


# -- the question flow, scripted --------------------------------------------------------------


class ScriptedPrompter:
    """Answers questions from a script keyed by how the question starts (longest key wins).

    A question without a scripted answer gets its default (Enter). Text and checkbox
    answers go through the prompt's validation like typed ones: a rejected answer is
    recorded and the next scripted answer is tried, as a user re-answering would.
    """

    def __init__(self, script: dict[str, list[Any]] | None = None) -> None:
        self.script = {key: list(values) for key, values in (script or {}).items()}
        self.asked: list[str] = []
        self.said: list[str] = []
        self.rejected: list[tuple[str, str]] = []

    def _key(self, message: str) -> str | None:
        self.asked.append(message)
        keys = [key for key in self.script if message.startswith(key) and self.script[key]]
        return max(keys, key=len) if keys else None

    def _next(self, message: str, default: Any) -> Any:
        key = self._key(message)
        return self.script[key].pop(0) if key is not None else default

    def text(
        self,
        message: str,
        *,
        default: str = "",
        instruction: str = "",
        validate: Callable[[str], str | None] | None = None,
    ) -> str:
        while True:
            answer = str(self._next(message, default))
            problem = validate(answer) if validate else None
            if problem is None:
                return answer
            self.rejected.append((message, problem))
            assert len(self.rejected) < 20, f"stuck on {message!r}: {problem}"

    def select(self, message: str, options: Sequence[Option], *, default: Any = None) -> Any:
        values = [option.value for option in options]
        fallback = default if default in values else values[0]
        answer = self._next(message, fallback)
        assert answer in values, f"{answer!r} is not a choice of {message!r}"
        return answer

    def checkbox(
        self,
        message: str,
        options: Sequence[Option],
        *,
        checked: Collection[Any] = (),
        instruction: str = "",
        validate: Callable[[list[Any]], str | None] | None = None,
    ) -> list[Any]:
        while True:
            answer = list(self._next(message, list(checked)))
            problem = validate(answer) if validate else None
            if problem is None:
                return answer
            self.rejected.append((message, problem))
            assert len(self.rejected) < 20, f"stuck on {message!r}: {problem}"

    def confirm(self, message: str, *, default: bool) -> bool:
        return bool(self._next(message, default))

    def say(self, line: str = "") -> None:
        self.said.append(line)


def grid_script(output: Path, **extra: list[Any]) -> dict[str, list[Any]]:
    script: dict[str, list[Any]] = {
        "name": ["grid-test"],
        "strategy": ["grid"],
        "ticker": ["btc"],
        "order_notional_usd": ["100"],
        "target_leverage": ["10"],
        "take_profit": ["0.6"],
        "grid_step": ["0.25"],
        "max_orders": ["8"],
        "max_margin_usd": ["100"],
        "write the config to": [str(output)],
    }
    script.update(extra)
    return script


def no_database() -> list[AccountSummary]:
    raise AssertionError("a paper-only config must not open the database")


def run_scripted(prompter: ScriptedPrompter, accounts: AccountDirectory | None = None) -> Any:
    return run(
        prompter,
        accounts=accounts or AccountDirectory(no_database),
        today=lambda: datetime(2025, 1, 2, tzinfo=UTC),
    )


def test_flow_writes_a_grid_config(tmp_path: Path) -> None:
    output = tmp_path / "configs" / "grid.yml"
    prompter = ScriptedPrompter(grid_script(output, name=["Grid Bot", "grid-test"]))
    assert run_scripted(prompter) == output
    assert [message for message, _ in prompter.rejected] == ["name: bot name, unique in the fleet"]
    assert "expected a name of lowercase letters" in prompter.rejected[0][1]
    config = load_config(output, env={})
    assert config.name == "grid-test"
    assert config.strategy.params == GridParams.model_validate(GRID_ANSWERS)
    assert f"{output}: OK" in prompter.said
    assert "paper: Paper (simulated), no account needed" in prompter.said


def test_flow_asks_again_what_a_cross_field_rule_rejects(tmp_path: Path) -> None:
    output = tmp_path / "grid.yml"
    prompter = ScriptedPrompter(
        grid_script(
            output,
            max_margin_usd=["5", "50"],
            stop_loss_enabled=[True],
            stop_loss_percentage=["", "30"],
        )
    )
    assert run_scripted(prompter) == output
    assert (
        "  - max_margin_usd 5 is below the margin of one order (order_notional_usd / "
        "target_leverage = 10)" in prompter.said
    )
    assert "Asking again: order_notional_usd, target_leverage, max_margin_usd" in prompter.said
    params = load_config(output, env={}).strategy.params
    assert isinstance(params, GridParams)
    assert (params.max_margin_usd, params.stop_loss_percentage) == (Decimal(50), Decimal(30))
    # The grid reports one rule at a time: stop-loss first, then the margin.
    assert "Asking again: stop_loss_enabled, stop_loss_percentage" in prompter.said
    asked_margin = [m for m in prompter.asked if m.startswith("max_margin_usd")]
    assert len(asked_margin) == 2


def test_flow_never_overwrites_without_consent(tmp_path: Path) -> None:
    existing = tmp_path / "grid.yml"
    existing.write_text("keep me\n", encoding="utf-8")
    other = tmp_path / "grid-2.yml"
    prompter = ScriptedPrompter(
        grid_script(existing, **{"write the config to": [str(existing), str(other)]})
    )
    assert run_scripted(prompter) == other
    assert existing.read_text(encoding="utf-8") == "keep me\n"
    assert f"{existing} exists: overwrite it?" in prompter.asked

    consenting = ScriptedPrompter(grid_script(existing, **{f"{existing} exists": [True]}))
    assert run_scripted(consenting) == existing
    assert load_config(existing, env={}).name == "grid-test"


def test_flow_declined_at_the_end_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "grid.yml"
    prompter = ScriptedPrompter(grid_script(output, **{f"write {output}?": [False]}))
    assert run_scripted(prompter) is None
    assert not output.exists()


def summary(name: str, *venues: str, sub_account: str = "") -> AccountSummary:
    return AccountSummary(
        name, [CredentialSummary(venue, sub_account, {}, ["api_key"]) for venue in venues]
    )


def test_accounts_offered_are_those_with_credentials_on_the_venue() -> None:
    summaries = [
        summary("alice", "binance", "hyperliquid"),
        summary("bob", "hyperliquid"),
        summary("carol", "binance", sub_account="hedge"),
        AccountSummary("dave", []),
    ]
    assert accounts_with_credentials(summaries, "binance") == ["alice", "carol"]
    assert accounts_with_credentials(summaries, "hyperliquid") == ["alice", "bob"]
    assert accounts_with_credentials(summaries, "lighter") == []


def test_flow_picks_an_account_for_a_real_venue(tmp_path: Path) -> None:
    output = tmp_path / "grid.yml"
    extra: dict[str, list[Any]] = {
        "exchange": ["binance"],
        "account for binance": ["alice"],
        "use the binance test network": [True],
    }
    prompter = ScriptedPrompter(grid_script(output, **extra))
    accounts = AccountDirectory(lambda: [summary("alice", "binance"), summary("bob", "lighter")])
    assert run_scripted(prompter, accounts) == output
    config = load_config(output, env={})
    assert config.exchanges["binance"].account == "alice"
    assert config.exchanges["binance"].testnet


def test_flow_asks_which_sub_account_when_the_account_has_some(tmp_path: Path) -> None:
    output = tmp_path / "grid.yml"
    extra: dict[str, list[Any]] = {
        "exchange": ["binance"],
        "account for binance": ["alice"],
        "sub-account of alice on binance": ["hedge"],
    }
    main = summary("alice", "binance")
    hedge = summary("alice", "binance", sub_account="hedge")
    accounts = AccountDirectory(
        lambda: [AccountSummary("alice", [*main.credentials, *hedge.credentials])]
    )
    prompter = ScriptedPrompter(grid_script(output, **extra))
    assert run_scripted(prompter, accounts) == output
    config = load_config(output, env={})
    assert (config.exchanges["binance"].account, config.exchanges["binance"].sub_account) == (
        "alice",
        "hedge",
    )


def test_no_sub_account_question_for_an_account_with_main_credentials_only(
    tmp_path: Path,
) -> None:
    output = tmp_path / "grid.yml"
    prompter = ScriptedPrompter(grid_script(output, exchange=["binance"]))
    assert run_scripted(prompter, AccountDirectory(lambda: [summary("alice", "binance")])) == output
    assert not any(message.startswith("sub-account") for message in prompter.asked)
    assert load_config(output, env={}).exchanges["binance"].sub_account is None


def test_flow_without_a_usable_database_says_how_to_add_an_account(tmp_path: Path) -> None:
    def broken() -> list[AccountSummary]:
        raise ConfigError(
            "database at sqlite:///x.db is not initialised; run `python -m database init`"
        )

    output = tmp_path / "grid.yml"
    prompter = ScriptedPrompter(grid_script(output, exchange=["hyperliquid"]))
    assert run_scripted(prompter, AccountDirectory(broken)) == output
    assert (
        "cannot list accounts: database at sqlite:///x.db is not initialised; run "
        "`python -m database init`" in prompter.said
    )
    assert (
        "Add one with `python -m database accounts add --name NAME --venue hyperliquid` "
        "(now or later)." in prompter.said
    )
    assert any("hyperliquid (no account yet: run with --account NAME" in x for x in prompter.said)
    config = load_config(output, env={}, cli=CliOverrides(account="main"))
    assert config.exchanges["hyperliquid"].account == "main"


async def test_accounts_come_from_the_database_and_pass_runbot_check(
    db_session: AsyncSession,
    migrated_db_url: str,
    isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    await add_binance(db_session, "alice")
    await add_binance(db_session, "hedger", sub_account="hedge")
    await db_session.commit()
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    summaries = await fetch_accounts()
    assert accounts_with_credentials(summaries, "binance") == ["alice", "hedger"]

    output = tmp_path / "binance.yml"
    prompter = ScriptedPrompter(grid_script(output, exchange=["binance"]))
    assert run_scripted(prompter, AccountDirectory(lambda: summaries)) == output
    assert any(message.startswith("account for binance") for message in prompter.asked)
    check = run_cli(
        ["runbot.py", "--config", str(output), "--check"],
        isolated_environment,
        env={"DATABASE_URL": migrated_db_url},
    )
    assert check.returncode == 0, check.stderr
    assert "binance (account alice, credentials found)" in check.stdout


# -- the real builder in a pseudo-terminal ----------------------------------------------------

ENTER = "\r"
DOWN = "\x1b[B"
CLEAR_LINE = "\x15"  # Ctrl-U: erase the pre-filled text before typing another value


class Terminal:
    """``python -m config_builder`` in a pty, with everything it printed kept."""

    def __init__(self, tmp_path: Path, db_url: str, *args: str) -> None:
        env = cli_env(
            tmp_path / "var",
            {
                "DATABASE_URL": db_url,
                "TERM": "xterm",
                "NO_COLOR": "1",
                # No terminal answers cursor-position requests here: do not wait for one.
                "PROMPT_TOOLKIT_NO_CPR": "1",
            },
        )
        self.output = io.StringIO()
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "config_builder", *args],
            cwd=str(PROJECT_ROOT),
            env=env,
            encoding="utf-8",
            timeout=30,
            dimensions=(50, 250),
        )
        self.child.logfile_read = self.output

    def answer(self, prompt: str, keys: str) -> None:
        self.child.expect_exact(prompt)
        self.child.send(keys)

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        status = self.child.exitstatus
        assert status is not None, "killed by a signal"
        return int(status)


def runbot_check(path: Path, tmp_path: Path, db_url: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        ["runbot.py", "--config", str(path), "--check"],
        tmp_path / "var",
        env={"DATABASE_URL": db_url},
    )


def answer_params(
    terminal: Terminal, model: type[Any], typed: dict[str, str], keys: dict[str, str]
) -> None:
    """Answer every params prompt in order: typed text, raw keys, or Enter for the default."""
    for spec in specs_for_model(model):
        if spec.field in typed:
            text = typed[spec.field]
            prefill = CLEAR_LINE if spec.default is not None else ""
            terminal.answer(spec.message, prefill + text + ENTER)
        else:
            terminal.answer(spec.message, keys.get(spec.field, ENTER))


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_terminal_builds_a_paper_grid_that_runbot_accepts(
    tmp_path: Path, migrated_db_url: str
) -> None:
    output = tmp_path / "out" / "grid.yml"
    terminal = Terminal(tmp_path, migrated_db_url, "--output", str(output))
    terminal.answer("name: bot name", "grid-pty" + ENTER)
    terminal.answer("strategy", DOWN + ENTER)  # funding_arbitrage, then grid
    specs = specs_for_model(GridParams)
    typed = {
        "ticker": "btc",
        "target_leverage": "10",
        "take_profit": "0.6",
        "grid_step": "0.25",
        "max_orders": "8",
        "max_margin_usd": "100",
    }
    for spec in specs:
        if spec.field == "order_notional_usd":
            terminal.answer(spec.message, "-5" + ENTER)
            terminal.answer("order_notional_usd: expected a number greater than 0, found -5", "")
            terminal.child.send(CLEAR_LINE + "100" + ENTER)
        elif spec.field in typed:
            terminal.answer(spec.message, typed[spec.field] + ENTER)
        else:  # exchange (paper, first), direction (buy, first) and every default
            terminal.answer(spec.message, ENTER)
    terminal.answer("set risk limits?", "y")
    terminal.answer("max_position_notional_usd:", "1000" + ENTER)
    terminal.answer("max_total_exposure_usd:", ENTER)
    terminal.answer("daily_loss_limit_usd:", "50" + ENTER)
    terminal.answer("max_drawdown_pct:", "20" + ENTER)
    terminal.answer("enable the control API?", ENTER)
    terminal.answer("write the config to", ENTER)
    terminal.answer(f"write {output}?", ENTER)
    assert terminal.finish() == 0, terminal.output.getvalue()
    assert "Traceback" not in terminal.output.getvalue()

    text = output.read_text(encoding="utf-8")
    assert "    grid_step: 0.25 " in text
    assert "    order_notional_usd: 100 " in text
    config = load_config(output, env={})
    assert config.name == "grid-pty"
    assert config.strategy.params == GridParams.model_validate(
        {**GRID_ANSWERS, "order_notional_usd": Decimal(100)}
    )
    assert config.risk.daily_loss_limit_usd == Decimal(50)
    check = runbot_check(output, tmp_path, migrated_db_url)
    assert check.returncode == 0, check.stderr
    assert f"{output}: OK" in check.stdout
    assert "step 0.25%" in check.stdout


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_terminal_builds_funding_arbitrage_on_two_paper_venues(
    tmp_path: Path, migrated_db_url: str
) -> None:
    output = tmp_path / "arb.yml"
    terminal = Terminal(tmp_path, migrated_db_url, "--output", str(output))
    terminal.answer("name: bot name", "arb-pty" + ENTER)
    terminal.answer("strategy", ENTER)  # funding_arbitrage is first
    answer_params(
        terminal,
        FundingArbitrageParams,
        typed={
            "symbols": "btc, eth",
            "target_margin_usd": "100",
            "min_net_apr_pct": "0.1",
            "min_volume_24h_usd": "0",
            "check_interval_seconds": "5",
        },
        # The catalogue starts paper, paper_a, paper_b: tick the second and the third.
        keys={"venues": DOWN + " " + DOWN + " " + ENTER},
    )
    terminal.answer("set risk limits?", ENTER)
    terminal.answer("enable the control API?", "y")
    terminal.answer("port:", ENTER)
    terminal.answer("write the config to", ENTER)
    terminal.answer(f"write {output}?", ENTER)
    assert terminal.finish() == 0, terminal.output.getvalue()

    config = load_config(output, env={})
    params = config.strategy.params
    assert isinstance(params, FundingArbitrageParams)
    assert params.venues == ["paper_a", "paper_b"]
    assert params.symbols == ["BTC", "ETH"]
    assert params.min_net_apr_pct == Decimal("0.1")
    assert list(config.exchanges) == ["paper_a", "paper_b"]
    assert config.control_api.enabled
    check = runbot_check(output, tmp_path, migrated_db_url)
    assert check.returncode == 0, check.stderr
    assert "control API: enabled on 127.0.0.1 (port from the fleet)" in check.stdout


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("key", "at_strategy"), [("\x03", False), ("\x04", True)], ids=["ctrl-c", "ctrl-d"]
)
def test_terminal_cancel_exits_130_and_writes_nothing(
    tmp_path: Path, migrated_db_url: str, key: str, at_strategy: bool
) -> None:
    output = tmp_path / "cancelled.yml"
    terminal = Terminal(tmp_path, migrated_db_url, "--output", str(output))
    if at_strategy:
        terminal.answer("name: bot name", "cancel-me" + ENTER)
        terminal.answer("strategy", key)
    else:
        terminal.answer("name: bot name", key)
    assert terminal.finish() == 130
    printed = terminal.output.getvalue()
    assert printed.count(CANCELLED) == 1
    assert "Traceback" not in printed
    assert not output.exists()


def test_without_a_terminal_it_exits_2(tmp_path: Path) -> None:
    output = tmp_path / "never.yml"
    result = run_cli(["-m", "config_builder", "--output", str(output)], tmp_path / "var", stdin="")
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not output.exists()


def test_a_rule_naming_no_asked_field_asks_them_all_again() -> None:
    specs = specs_for_model(GridParams, ["ticker", "grid_step"])
    problems = [ModelProblem(("max_margin_usd",), "max_margin_usd is too low")]
    assert fields_to_ask_again(specs, problems) == ["ticker", "grid_step"]
    assert fields_to_ask_again(specs, [ModelProblem((), "something")]) == ["ticker", "grid_step"]
