"""Turning pydantic validation errors into one precise line per problem.

Each line names the file and YAML line (or the env var / flag the value came
from), the field path, what was expected and what was found, e.g.::

    configs/grid.yml:12: strategy.params.order_notional_usd: expected a number
    greater than 0, found -5

Unknown keys get a "did you mean" hint from the keys the section accepts.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from core.redaction import is_secret_key
from core.suggestions import did_you_mean
from trading_config.strategy_params import find_strategy_params
from trading_config.yaml_source import Loc, Problem, SourceMap, describe_kind, format_loc

_KEY_MARKER = "[key]"
# Error types raised by our own validators, whose messages already say expected/found.
_OWN_MESSAGES = frozenset(
    {
        "unknown_strategy",
        "unknown_venue",
        "venue_not_configured",
        "not_loopback",
        "account_required",
        "market_data_not_paper",
        "url_not_for_paper",
        "url_scheme",
    }
)
_MAX_FOUND_CHARS = 60

_EXPECTED_BY_TYPE = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "none_required": "nothing (null)",
}


def describe_validation_error(
    error: ValidationError,
    source: SourceMap,
    data: Any,
    root: type[BaseModel],
    skip: Collection[Loc] = (),
) -> list[Problem]:
    """One located problem per pydantic error; errors at ``skip`` locs are dropped."""
    problems: dict[str, Problem] = {}
    for details in error.errors(include_url=False):
        loc = tuple(part for part in details["loc"] if part != _KEY_MARKER)
        if loc in skip:
            continue
        problem = _problem(details, loc, data, root)
        where = source.locate(loc)
        note = ""
        if loc in source.interpolated:
            names = ", ".join(f"${{{name}}}" for name in source.interpolated[loc])
            note = f" (value from {names})"
        text = f"{where}: {format_loc(loc)}: {problem}{note}"
        problems.setdefault(text, Problem(loc, source.line_of(loc), text))
    return list(problems.values())


def _problem(details: ErrorDetails, loc: Loc, data: Any, root: type[BaseModel]) -> str:
    kind = details["type"]
    ctx = details.get("ctx") or {}
    found_value = details.get("input")
    secret = any(is_secret_key(part) for part in loc)

    if kind == "extra_forbidden":
        return _unknown_key(loc, data, root)
    if kind == "missing":
        expected = _expected_for_field(loc, data, root)
        return f"missing required field{f': expected {expected}' if expected else ''}"
    if kind == "value_error":
        return str(details["msg"]).removeprefix("Value error, ")
    if kind in _OWN_MESSAGES:
        return str(details["msg"])

    expected = _expected(kind, ctx, str(details["msg"]))
    found = "a secret value (hidden)" if secret else _found(found_value)
    return f"expected {expected}, found {found}"


def _expected(kind: str, ctx: dict[str, Any], msg: str) -> str:
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind == "greater_than":
        return f"a number greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"a number of at least {ctx['ge']}"
    if kind == "less_than":
        return f"a number less than {ctx['lt']}"
    if kind == "less_than_equal":
        return f"a number of at most {ctx['le']}"
    if kind in {"literal_error", "enum"}:
        return f"one of {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return _PATTERN_HELP.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
    if kind == "too_short":
        return f"at least {ctx['min_length']} item(s)"
    if kind == "too_long":
        return f"at most {ctx['max_length']} item(s)"
    if kind in {"decimal_max_places", "decimal_max_digits"}:
        return msg[0].lower() + msg[1:]
    return msg[0].lower() + msg[1:] if msg else kind


_PATTERN_HELP = {
    r"^[a-z0-9][a-z0-9_-]{0,62}$": (
        "a name of lowercase letters, digits, '-' and '_' (at most 63 characters)"
    ),
    r"^[A-Z0-9]{1,20}$": "a base asset symbol such as BTC (letters and digits)",
}


def _found(value: Any) -> str:
    if isinstance(value, dict | list) or value is None or isinstance(value, bool):
        return describe_kind(value)
    text = format(value, "f") if isinstance(value, Decimal) else repr(value)
    if len(text) > _MAX_FOUND_CHARS:
        text = text[: _MAX_FOUND_CHARS - 3] + "..."
    return text


def _unknown_key(loc: Loc, data: Any, root: type[BaseModel]) -> str:
    key = str(loc[-1])
    if is_secret_key(key):
        return (
            "unknown key; credentials never belong in config files: store them with "
            "`python -m database accounts add --name NAME --venue VENUE` and name the account "
            "under exchanges.<venue>.account"
        )
    model = _model_at(loc[:-1], data, root)
    if model is None:
        return "unknown key"
    accepted = _accepted_keys(model)
    hint = did_you_mean(key, accepted)
    return f"unknown key{hint}" if hint else f"unknown key: expected one of {', '.join(accepted)}"


def _accepted_keys(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _expected_for_field(loc: Loc, data: Any, root: type[BaseModel]) -> str:
    """What a missing field should hold, e.g. ``a number (USD per entry order)``."""
    model = _model_at(loc[:-1], data, root)
    field = model.model_fields.get(str(loc[-1])) if model is not None else None
    if field is None:
        return ""
    kind = _describe_type(_unwrap(field.annotation))
    if field.description:
        return f"{kind} ({field.description})" if kind else field.description
    return kind


def _describe_type(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return "a list"
    if typing.get_origin(annotation) is dict:
        return "a mapping"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "a mapping"
        for python_type, text in _TYPE_NAMES:
            if issubclass(annotation, python_type):
                return text
    return ""


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "true or false"),
    (int, "an integer"),
    (Decimal, "a number"),
    (str, "a string"),
)


def _model_at(loc: Loc, data: Any, root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at ``loc`` (for key suggestions)."""
    current: Any = root
    path_data = data
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            if part == "params" and isinstance(path_data, dict) and "type" in path_data:
                current = find_strategy_params(str(path_data["type"]))
            else:
                field = current.model_fields.get(str(part))
                if field is None:
                    return None
                current = _unwrap(field.annotation)
        elif typing.get_origin(current) is dict:
            current = _unwrap(typing.get_args(current)[1])
        elif typing.get_origin(current) is list:
            current = _unwrap(typing.get_args(current)[0])
        else:
            return None
        path_data = path_data.get(part) if isinstance(path_data, dict) else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated``, ``SerializeAsAny`` and ``| None`` to the core type."""
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
