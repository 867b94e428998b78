"""The questions a strategy's params model asks, derived from its schema, and how answers become
values: the model every config dialogue shares (the terminal builder, Telegram's /new_config).

A strategy that registers its params model gets its questions for free, and a constraint added
to a field is enforced at the question with the same wording the loader prints for a bad file
(:mod:`trading_config.error_messages`). Everything here is pure - no terminal, no chat - so each
front end only renders a :class:`PromptSpec` its own way and hands the answer text back to
:func:`parse_text` and :func:`check_answer`. It sits with the schema (not in an application)
because the applications that ask are siblings that may not import each other.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from core.venues import VENUES
from trading_config.error_messages import describe_validation_error
from trading_config.yaml_source import SourceMap, parse_scalar_text

# Fields that name venues get the venue catalogue as choices instead of free text.
SINGLE_VENUE_FIELDS = frozenset({"exchange", "venue"})
MULTI_VENUE_FIELDS = frozenset({"venues", "exchanges"})

_ANSWER_SOURCE = "answer"  # the "file" name given to describe_validation_error, stripped again
_TOP_LEVEL = "(top level): "
_LIST_SPLIT = re.compile(r"[,\s]+")


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
    for item in constraints(info):
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


def constraints(info: FieldInfo) -> list[Any]:
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


__all__ = [
    "MISSING",
    "ModelProblem",
    "Option",
    "PromptSpec",
    "ValueKind",
    "Widget",
    "answer_data",
    "check_answer",
    "constraints",
    "fields_to_ask_again",
    "format_value",
    "model_problems",
    "parse_text",
    "spec_for_field",
    "specs_for_model",
    "venue_options",
]
