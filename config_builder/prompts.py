"""How a builder session's answers become a config file, and what the builder says about it.

The questions themselves come from the schemas (:mod:`trading_config.questions`, shared with
Telegram's /new_config); this module assembles the answers into a
:class:`~trading_config.schema.BotConfig`, renders it as commented YAML and summarizes it.
Everything here is pure - no terminal, no database - so the config and the YAML written are
unit-tested directly; the questionary I/O lives in :mod:`config_builder.terminal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import yaml

from bot_runtime.check import summarize
from core.venues import VENUES
from trading_config.schema import BotConfig
from trading_config.strategy_params import StrategyParams
from trading_config.yaml_source import (
    DocumentError,
    parse_document,
)

# Placeholder account while validating a config whose real venue has no account yet: the
# schema requires one, ``runbot.py --account NAME`` supplies it at run time. Never written.
UNSET_ACCOUNT = "<unset>"

_COMMENT_COLUMN = 36


@dataclass(frozen=True)
class ExchangeChoice:
    """What the builder learnt about one venue the strategy trades on."""

    account: str | None = None  # None: no account yet (runbot.py --account NAME supplies one)
    sub_account: str | None = None  # None: the account's main credentials
    testnet: bool = False
    credentials_found: bool = True  # False: the account named has no credentials stored yet


@dataclass(frozen=True)
class BuilderAnswers:
    """Every answer of a builder session: enough to make the config."""

    name: str
    strategy: str
    params: Mapping[str, Any]
    exchanges: Mapping[str, ExchangeChoice]
    risk: Mapping[str, Any] = field(default_factory=dict)
    control_api: Mapping[str, Any] = field(default_factory=dict)


# -- answers -> config ------------------------------------------------------------------------


def venues_named(params: StrategyParams) -> list[str]:
    """The venues the strategy's params trade on, in order, each once."""
    return list(dict.fromkeys(params.venue_references().values()))


def config_data(answers: BuilderAnswers) -> dict[str, Any]:
    """The config document of ``answers`` (unset accounts hold :data:`UNSET_ACCOUNT`)."""
    exchanges: dict[str, dict[str, Any]] = {}
    for venue, choice in answers.exchanges.items():
        section: dict[str, Any] = {}
        if VENUES[venue].needs_credentials:
            section["account"] = choice.account or UNSET_ACCOUNT
            if choice.sub_account:
                section["sub_account"] = choice.sub_account
        if choice.testnet:
            section["testnet"] = True
        exchanges[venue] = section
    data: dict[str, Any] = {
        "name": answers.name,
        "strategy": {"type": answers.strategy, "params": dict(answers.params)},
        "exchanges": exchanges,
    }
    risk = {key: value for key, value in answers.risk.items() if value is not None}
    if risk:
        data["risk"] = risk
    if answers.control_api:
        data["control_api"] = {
            key: value for key, value in answers.control_api.items() if value is not None
        }
    return data


def build_config(answers: BuilderAnswers) -> BotConfig:
    """Validate ``answers`` as a whole config (raises pydantic's ``ValidationError``)."""
    return BotConfig.model_validate(config_data(answers))


def unset_accounts(config: BotConfig) -> list[str]:
    """Venues of ``config`` whose account is the placeholder (to be given with --account)."""
    return [venue for venue, ex in config.exchanges.items() if ex.account == UNSET_ACCOUNT]


def summary_lines(path: str, config: BotConfig, answers: BuilderAnswers) -> list[str]:
    """``runbot.py --check``'s summary, told the truth about accounts that are not ready yet."""
    lines = summarize(path, config)
    for venue, choice in answers.exchanges.items():
        exchange = config.exchanges.get(venue)
        if exchange is None or not VENUES[venue].needs_credentials:
            continue
        claimed = f"{venue} (account {exchange.account}, credentials found"
        if exchange.account == UNSET_ACCOUNT:
            actual = f"{venue} (no account yet: run with --account NAME"
        elif not choice.credentials_found:
            actual = f"{venue} (account {exchange.account}, no {venue} credentials stored yet"
        else:
            continue
        lines = [line.replace(claimed, actual) for line in lines]
    return lines


# -- config -> YAML ---------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Decimals as plain YAML numbers (never floats, never exponents), no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(Decimal, _represent_decimal)


def render_config(config: BotConfig, *, path: str, made_on: date) -> str:
    """The YAML file for ``config``: commented, exact numbers, placeholders left out.

    Strategy params are all written (defaults included, each with its description) so the
    file documents what the bot does; other sections only where they differ from defaults.
    """
    lines = [
        f"# Bot {config.name!r}, made with the interactive config builder",
        f"# (`python -m config_builder`) on {made_on.isoformat()}.",
        f"#   check: python runbot.py --config {path} --check",
        f"#   run:   python runbot.py --config {path}",
        "",
        _entry("name", config.name),
        "",
        "strategy:",
        f"  {_entry('type', config.strategy.type)}",
        "  params:",
    ]
    params = config.strategy.params
    fields = type(params).model_fields
    entries: list[tuple[str, str]] = []
    for name, info in fields.items():
        value = getattr(params, name)
        if value is None and info.get_default(call_default_factory=True) is None:
            continue
        entries.append((f"    {_entry(info.alias or name, value)}", info.description or ""))
    lines += [_with_comment(line, comment) for line, comment in entries]

    lines += ["", "exchanges:"]
    for venue, exchange in config.exchanges.items():
        section = exchange.model_dump(mode="python", exclude_defaults=True)
        if section.get("account") == UNSET_ACCOUNT:
            del section["account"]
            lines += [
                f"  # {venue} needs an account with credentials: add one with",
                f"  # `python -m database accounts add --name NAME --venue {venue}`, then set",
                "  # `account: NAME` here or run with `--account NAME`.",
            ]
        lines += _section(venue, section, indent="  ")

    risk = config.risk.model_dump(mode="python", exclude_defaults=True)
    lines.append("")
    if risk:
        lines += _section("risk", risk)
    else:
        lines.append(
            "# risk: no limits set (e.g. `risk: {max_drawdown_pct: 20}` arms the kill switch)"
        )
    execution = config.execution.model_dump(mode="python", exclude_defaults=True)
    if execution:
        lines += ["", *_section("execution", execution)]
    control_api = {
        "enabled": config.control_api.enabled,
        **config.control_api.model_dump(mode="python", exclude_defaults=True),
    }
    lines += ["", *_section("control_api", control_api)]
    logging = config.logging.model_dump(mode="python", by_alias=True, exclude_defaults=True)
    if logging:
        lines += ["", *_section("logging", logging)]
    return "\n".join(lines) + "\n"


def check_round_trip(text: str, config: BotConfig, *, path: str) -> BotConfig:
    """The config ``text`` loads to; ``ValueError`` unless it equals ``config``.

    Placeholder accounts are put back before comparing, and kept in the result.
    """
    try:
        document = parse_document(text, path, env={})
    except DocumentError as exc:
        raise ValueError("; ".join(exc.problems)) from None
    if document.problems:
        raise ValueError("; ".join(problem.text for problem in document.problems))
    exchanges = document.data.get("exchanges") or {}
    for venue in unset_accounts(config):
        section = exchanges.get(venue) or {}
        section["account"] = UNSET_ACCOUNT
        exchanges[venue] = section
    loaded = BotConfig.model_validate(document.data)
    if loaded != config:
        raise ValueError(f"{path}: the YAML written does not load back to the same config")
    return loaded


def _section(name: str, values: Mapping[str, Any], indent: str = "") -> list[str]:
    if not values:
        return [f"{indent}{name}: {{}}"]
    return [f"{indent}{name}:", *(f"{indent}  {_entry(k, v)}" for k, v in values.items())]


def _entry(key: str, value: Any) -> str:
    """``key: value`` on one line: collections in flow style, ``$`` escaped (interpolation)."""
    text = yaml.dump(
        _escape(value),
        Dumper=_Dumper,
        default_flow_style=True,
        allow_unicode=True,
        width=1_000_000,
    )
    return f"{key}: {text.rstrip(chr(10)).removesuffix(chr(10) + '...').strip()}"


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list | tuple):
        return [_escape(item) for item in value]
    if isinstance(value, dict):
        return {_escape(key): _escape(item) for key, item in value.items()}
    return value


def _with_comment(line: str, comment: str) -> str:
    if not comment:
        return line
    return f"{line:<{_COMMENT_COLUMN}}  # {comment}"


__all__ = [
    "UNSET_ACCOUNT",
    "BuilderAnswers",
    "ExchangeChoice",
    "build_config",
    "check_round_trip",
    "config_data",
    "render_config",
    "summary_lines",
    "unset_accounts",
    "venues_named",
]
