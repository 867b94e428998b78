"""Every field of the config schema is read by the code that acts on it.

A setting accepted, shown by ``--check`` and then ignored is worse than no setting: the user
believes it protects them (``use_proxy`` and ``execution.default_mode`` once were). This test
walks every field of :class:`BotConfig` and of every registered strategy's params and looks,
in the source of the packages that *act* (runtime, strategies, execution, clients, fleet),
for an attribute read of that field on a value named after its section (``config.name``,
``exchange.testnet``, ``execution.default_mode``, ``params.grid_step`` ...). Reads that only
validate or display do not count: ``trading_config/``, the strategies' ``params.py`` (their
validators), ``bot_runtime/check.py`` (``--check``'s summary), the config builder and
Telegram are not searched.

A field that is read in another way is listed in :data:`READ_THROUGH` with the accessor that
must be read instead; a field that is only documentation would go in :data:`DOCUMENTATION`
with the reason - both lists are checked too (an entry whose field is gone fails).
"""

from __future__ import annotations

import ast
import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel

import strategies  # noqa: F401  (registers every strategy's params)
from tests.helpers import PROJECT_ROOT
from trading_config.schema import BotConfig
from trading_config.strategy_params import (
    StrategyParams,
    find_strategy_params,
    registered_strategies,
)

ACTING = (
    "bot_runtime",
    "strategies",
    "execution",
    "exchange_clients",
    "fleet",
    "networking",
    "runbot.py",
)
NOT_ACTING = {"bot_runtime/check.py"}

# The names a value of each section goes by where it is used.
HOLDERS: dict[str, frozenset[str]] = {
    "BotConfig": frozenset({"config"}),
    "StrategyConfig": frozenset({"strategy"}),
    "ExchangeConfig": frozenset({"exchange", "exchanges[]", "exchange_config"}),
    "MarketDataConfig": frozenset({"market_data"}),
    "RiskConfig": frozenset({"risk", "config", "_config", "limits"}),
    "ExecutionConfig": frozenset({"execution"}),
    "ControlApiConfig": frozenset({"control_api", "api"}),
    "LoggingConfig": frozenset({"logging"}),
    "ReconciliationConfig": frozenset({"reconciliation"}),
}
PARAMS_HOLDERS = frozenset({"params"})

# field path -> (holder, attribute) that must be read instead, and why.
READ_THROUGH: dict[str, tuple[str, str, str]] = {
    "reconciliation.policy": (
        "reconciliation",
        "policy_for",
        "resolved per venue with the venue kind's default by ReconciliationConfig.policy_for",
    ),
}
# field path -> why it is only documentation (nothing so far: every field acts).
DOCUMENTATION: dict[str, str] = {}


def _holder(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _holder(node.value) + "[]"
    if isinstance(node, ast.Call):
        return _holder(node.func) + "()"
    return "?"


def attribute_reads() -> set[tuple[str, str]]:
    """``(holder, attribute)`` of every attribute read in the acting packages."""
    reads: set[tuple[str, str]] = set()
    for entry in ACTING:
        root = PROJECT_ROOT / entry
        files = [root] if root.suffix == ".py" else sorted(root.rglob("*.py"))
        for path in files:
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if relative in NOT_ACTING or (
                relative.startswith("strategies/") and path.name == "params.py"
            ):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                    reads.add((_holder(node.value), node.attr))
    return reads


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)
    if isinstance(annotation, types.UnionType):
        for argument in annotation.__args__:
            yield from _models_in(argument)


def schema_fields() -> Iterator[tuple[str, frozenset[str], str]]:
    """``(path, holders, field name)`` of every field, strategy params included."""

    def walk(
        model: type[BaseModel], prefix: str, holders: frozenset[str]
    ) -> Iterator[tuple[str, frozenset[str], str]]:
        for name, info in model.model_fields.items():
            yield f"{prefix}{name}", holders, name
            for inner in _models_in(info.annotation):
                if issubclass(inner, StrategyParams):
                    continue  # validated per strategy, walked below
                yield from walk(inner, f"{prefix}{name}.", HOLDERS[inner.__name__])

    yield from walk(BotConfig, "", HOLDERS["BotConfig"])
    for strategy in registered_strategies():
        params = find_strategy_params(strategy)
        assert params is not None
        yield from walk(params, f"strategy.params ({strategy}).", PARAMS_HOLDERS)


def find_unread(
    fields: Iterator[tuple[str, frozenset[str], str]], reads: set[tuple[str, str]]
) -> list[str]:
    """The fields of ``fields`` no acting code reads, each with the read that was expected."""
    unread = []
    for path, holders, name in fields:
        if path in DOCUMENTATION:
            continue
        if path in READ_THROUGH:
            holder, accessor, _ = READ_THROUGH[path]
            if (holder, accessor) not in reads:
                unread.append(f"{path} (through {holder}.{accessor})")
            continue
        if not any((holder, name) in reads for holder in holders):
            unread.append(f"{path} (expected a read like {sorted(holders)[0]}.{name})")
    return unread


def test_every_config_field_is_read_by_the_code_that_acts_on_it() -> None:
    unread = find_unread(schema_fields(), attribute_reads())
    assert unread == [], (
        "config fields accepted but never read by the runtime or a strategy - make them act "
        "or refuse them:\n  " + "\n  ".join(unread)
    )


def test_the_allow_lists_name_real_fields() -> None:
    paths = {path for path, _, _ in schema_fields()}
    assert set(READ_THROUGH) | set(DOCUMENTATION) <= paths


def test_a_field_nobody_reads_is_reported() -> None:
    reads = attribute_reads()
    execution = HOLDERS["ExecutionConfig"]
    fields = [
        ("execution.default_mode", execution, "default_mode"),
        ("execution.no_such_setting", execution, "no_such_setting"),
    ]
    assert find_unread(iter(fields), reads) == [
        "execution.no_such_setting (expected a read like execution.no_such_setting)"
    ]
