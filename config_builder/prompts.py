"""What the config builder asks, derived from the schemas, and how answers become a config file.

The interactive builder (:mod:`config_builder.terminal`) must ask for exactly what the schemas
accept: a strategy that registers its params model gets its prompts for free, and a constraint
added to a field is enforced at the prompt with the same wording the loader prints for a bad
file (:mod:`trading_config.error_messages`). Everything here is pure - no terminal, no database -
so the questions, the parsing of answers and the YAML written are unit-tested directly; the
questionary I/O lives in :mod:`config_builder.terminal`.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from bot_runtime.check import summarize
from core.venues import VENUES
from trading_config.error_messages import describe_validation_error
from trading_config.schema import BotConfig
from trading_config.strategy_params import StrategyParams
from trading_config.yaml_source import (
    DocumentError,
    SourceMap,
    parse_document,
    parse_scalar_text,
)

# Fields that name venues get the venue catalogue as choices instead of free text.
SINGLE_VENUE_FIELDS = frozenset({"exchange", "venue"})
MULTI_VENUE_FIELDS = frozenset({"venues", "exchanges"})

# Placeholder account while validating a config whose real venue has no account yet: the
# schema requires one, ``runbot.py --account NAME`` supplies it at run time. Never written.
UNSET_ACCOUNT = "<unset>"

_ANSWER_SOURCE = "answer"  # the "file" name given to describe_validation_error, stripped again
_TOP_LEVEL = "(top level): "
_LIST_SPLIT = re.compile(r"[,\s]+")
_COMMENT_COLUMN = 36


class Widget(StrEnum):
    """The questionary prompt that asks for a value."""

    TEXT = "text"
    SELECT = "select"
    CONFIRM = "confirm"
    CHECKBOX = "checkbox"


class ValueKind(StrEnum):
    """How the answer's text (or choice) becomes the Python value put in the config."""

    DECIMAL = "decimal"
    INTEGER = "integer"
    STRING = "string"
    STRING_LIST = "string_list"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    YAML = "yaml"  # a type the builder has no widget for: the answer is read as YAML


class _Missing:
    """No answer for a required field (omitted from the data so pydantic says "missing")."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Option:
    """One choice of a select or checkbox: the value stored and the text shown."""

    value: Any
    title: str


@dataclass(frozen=True)
class PromptSpec:
    """One question, derived from one field of a pydantic model."""

    field: str  # key in the data: the field's name (or alias), e.g. "order_notional_usd"
    widget: Widget
    kind: ValueKind
    message: str  # "order_notional_usd: notional of each entry order, USD"
    hint: str  # "(number > 0)"; shown after the question
    required: bool  # no default: an answer must be given
    default: Any  # the schema's default (None when required)
    optional: bool  # None is accepted: an empty answer leaves the field unset
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class ModelProblem:
    """A problem with a whole model (cross-field rule) and the fields to ask again."""

    fields: tuple[str, ...]  # empty when the message names no field: ask them all again
    message: str


@dataclass(frozen=True)
class ExchangeChoice:
    """What the builder learnt about one venue the strategy trades on."""

    account: str | None = None  # None: no account yet (runbot.py --account NAME supplies one)
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


# -- schema -> prompt specs -------------------------------------------------------------------


def specs_for_model(
    model: type[BaseModel],
    fields: Iterable[str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> list[PromptSpec]:
    """One prompt per field of ``model``, in declaration order (or the order of ``fields``)."""
    names = list(model.model_fields) if fields is None else list(fields)
    extra = descriptions or {}
    return [spec_for_field(name, model.model_fields[name], extra.get(name)) for name in names]


def spec_for_field(name: str, info: FieldInfo, description: str | None = None) -> PromptSpec:
    """The prompt for one field: widget by type, default, choices, a hint from its constraints."""
    annotation = info.annotation
    optional = _allows_none(annotation)
    core = _unwrap(annotation)
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    text = description or info.description
    key = info.alias or name
    message = f"{key}: {text}" if text else key
    unset: tuple[Option, ...] = (Option(None, "(unset)"),) if optional else ()

    widget, kind = Widget.TEXT, ValueKind.YAML
    options: tuple[Option, ...] = ()
    if name in SINGLE_VENUE_FIELDS and core is str:
        widget, kind, options = Widget.SELECT, ValueKind.CHOICE, (*venue_options(), *unset)
    elif name in MULTI_VENUE_FIELDS and _list_of(core) is str:
        widget, kind, options = Widget.CHECKBOX, ValueKind.STRING_LIST, venue_options()
    elif typing.get_origin(core) is typing.Literal:
        literal = tuple(Option(value, str(value)) for value in typing.get_args(core))
        widget, kind, options = Widget.SELECT, ValueKind.CHOICE, (*literal, *unset)
    elif core is bool:
        if optional:
            choices = (Option(True, "true"), Option(False, "false"), *unset)
            widget, kind, options = Widget.SELECT, ValueKind.CHOICE, choices
        else:
            widget, kind = Widget.CONFIRM, ValueKind.BOOLEAN
    elif core is int:
        kind = ValueKind.INTEGER
    elif core is Decimal or core is float:
        kind = ValueKind.DECIMAL
    elif core is str:
        kind = ValueKind.STRING
    elif _list_of(core) is str:
        kind = ValueKind.STRING_LIST

    return PromptSpec(
        field=key,
        widget=widget,
        kind=kind,
        message=message,
        hint=_hint(widget, kind, info, optional),
        required=required,
        default=default,
        optional=optional,
        options=options,
    )


def venue_options() -> tuple[Option, ...]:
    """The venue catalogue as choices, paper venues first (the catalogue's order)."""
    width = max(len(name) for name in VENUES)
    return tuple(
        Option(
            venue.name,
            f"{venue.name:<{width}}  {venue.display_name}"
            + ("" if venue.needs_credentials else ", no account needed"),
        )
        for venue in VENUES.values()
    )


def _hint(widget: Widget, kind: ValueKind, info: FieldInfo, optional: bool) -> str:
    if widget not in (Widget.TEXT, Widget.CHECKBOX):
        return ""
    if widget is Widget.CHECKBOX:
        limits = _bounds(info)
        return f"(choose {', '.join(limits)})" if limits else ""
    noun = {
        ValueKind.DECIMAL: "number",
        ValueKind.INTEGER: "whole number",
        ValueKind.STRING: "text",
        ValueKind.STRING_LIST: "comma-separated",
        ValueKind.YAML: "YAML value",
    }.get(kind, "")
    bounds = ", ".join(_bounds(info))
    parts = [" ".join(part for part in (noun, bounds) if part)]
    if optional:
        parts.append("empty = unset")
    text = "; ".join(part for part in parts if part)
    return f"({text})" if text else ""


def _bounds(info: FieldInfo) -> list[str]:
    """``["> 0", "<= 200"]`` from the field's constraints, wherever they are declared."""
    found: list[str] = []
    for item in _metadata(info):
        if isinstance(item, annotated_types.Gt):
            found.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Ge):
            found.append(f">= {item.ge}")
        elif isinstance(item, annotated_types.Lt):
            found.append(f"< {item.lt}")
        elif isinstance(item, annotated_types.Le):
            found.append(f"<= {item.le}")
        elif isinstance(item, annotated_types.MinLen):
            found.append(f"at least {item.min_length}")
        elif isinstance(item, annotated_types.MaxLen):
            found.append(f"at most {item.max_length}")
    return found


def _metadata(info: FieldInfo) -> list[Any]:
    """Constraints on the field itself and inside ``Annotated[...] | None`` (not list items)."""
    items: list[Any] = list(info.metadata)
    pending: list[Any] = [info.annotation]
    while pending:
        annotation = pending.pop()
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            inner, *extras = typing.get_args(annotation)
            pending.append(inner)
            for extra in extras:
                items.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
        elif origin in (typing.Union, types.UnionType):
            pending.extend(typing.get_args(annotation))
    return items


def _allows_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _allows_none(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_allows_none(member) for member in typing.get_args(annotation))
    return False


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` down to the core type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _list_of(annotation: Any) -> Any:
    """The (unwrapped) item type of ``list[X]``, else None."""
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return _unwrap(item)
    return None


# -- answers -> values ------------------------------------------------------------------------


def format_value(spec: PromptSpec, value: Any) -> str:
    """A value as the text pre-filled in a text prompt (empty for None/MISSING)."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if spec.kind is ValueKind.STRING_LIST and isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if spec.kind is ValueKind.YAML and not isinstance(value, str | int):
        return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    return str(value)


def parse_text(spec: PromptSpec, text: str) -> Any:
    """The candidate value of a typed answer, before validation.

    Empty: None for optional fields, the default for fields that have one, else MISSING.
    Numbers become ``Decimal``/``int`` when they parse; text that does not is passed on as
    is, so pydantic reports it ("expected a number, found 'abc'").
    """
    stripped = text.strip()
    if not stripped:
        if spec.optional:
            return None
        return MISSING if spec.required else spec.default
    if spec.kind is ValueKind.DECIMAL:
        try:
            number = Decimal(stripped)
        except InvalidOperation:
            return stripped
        # "1e3" is kept as 1000: the summary and the file show the number as written out.
        return Decimal(format(number, "f")) if number.is_finite() else number
    if spec.kind is ValueKind.INTEGER:
        try:
            return int(stripped)
        except ValueError:
            return stripped
    if spec.kind is ValueKind.STRING_LIST:
        return [item for item in _LIST_SPLIT.split(stripped) if item]
    if spec.kind is ValueKind.YAML:
        return parse_scalar_text(stripped)
    return stripped


def check_answer(
    model: type[BaseModel], spec: PromptSpec, value: Any, context: Mapping[str, Any]
) -> str | None:
    """None when ``value`` is valid for the field, else the message to show (and re-ask).

    The field is validated inside its model, next to the answers given so far, so its type,
    its constraints and its field validators all apply; errors about other (not yet
    answered) fields are ignored, and so are cross-field rules (checked once all is known).
    """
    data = {key: item for key, item in context.items() if key != spec.field}
    if value is not MISSING:
        data[spec.field] = value
    try:
        model.model_validate(data)
    except ValidationError as exc:
        messages = [
            message for loc, message in _messages(exc, data, model) if loc and loc[0] == spec.field
        ]
        text = "; ".join(messages)
        if isinstance(value, list):  # "found a list" says little when choosing from a list
            text = text.replace(", found a list", f", found {len(value)}")
        return text or None
    return None


def model_problems(model: type[BaseModel], answers: Mapping[str, Any]) -> list[ModelProblem]:
    """Problems of the whole model, each with the fields to ask again.

    A cross-field rule (a model validator) reports no location; the fields its message names
    are the ones to ask again (grid: "max_margin_usd ... order_notional_usd / target_leverage").
    """
    try:
        model.model_validate(dict(answers))
    except ValidationError as exc:
        keys = [info.alias or name for name, info in model.model_fields.items()]
        problems: list[ModelProblem] = []
        for loc, message in _messages(exc, dict(answers), model):
            if loc and loc[0] in keys:
                named: tuple[str, ...] = (str(loc[0]),)
            else:
                named = tuple(key for key in keys if re.search(rf"\b{re.escape(key)}\b", message))
            problems.append(ModelProblem(named, message))
        return problems
    return []


def fields_to_ask_again(specs: Sequence[PromptSpec], problems: Sequence[ModelProblem]) -> list[str]:
    """Fields named by ``problems`` in declaration order; all of them when one names none."""
    named = {name for problem in problems for name in problem.fields}
    again = [spec.field for spec in specs if spec.field in named]
    if not again or any(not problem.fields for problem in problems):
        return [spec.field for spec in specs]
    return again


def _messages(
    exc: ValidationError, data: Any, model: type[BaseModel]
) -> list[tuple[tuple[str | int, ...], str]]:
    """``(loc, "field: expected ..., found ...")`` per error, worded like the loader's."""
    source = SourceMap(file=_ANSWER_SOURCE)
    return [
        (
            problem.loc,
            problem.text.removeprefix(f"{_ANSWER_SOURCE}: ").removeprefix(_TOP_LEVEL),
        )
        for problem in describe_validation_error(exc, source, data, model)
    ]


def answer_data(specs: Sequence[PromptSpec], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers as model data: unset optional fields whose default is unset are left out."""
    data: dict[str, Any] = {}
    for spec in specs:
        if spec.field not in answers:
            continue
        value = answers[spec.field]
        if value is MISSING or (value is None and spec.default is None):
            continue
        data[spec.field] = value
    return data


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
    "MISSING",
    "UNSET_ACCOUNT",
    "BuilderAnswers",
    "ExchangeChoice",
    "ModelProblem",
    "Option",
    "PromptSpec",
    "ValueKind",
    "Widget",
    "answer_data",
    "build_config",
    "check_answer",
    "check_round_trip",
    "config_data",
    "fields_to_ask_again",
    "format_value",
    "model_problems",
    "parse_text",
    "render_config",
    "spec_for_field",
    "specs_for_model",
    "summary_lines",
    "unset_accounts",
    "venue_options",
    "venues_named",
]
