"""Reading a YAML config while remembering where every value came from.

Validation errors must name the file and the line, so the document is built
from PyYAML's node tree (which carries marks) instead of ``yaml.safe_load``.
Building it ourselves also lets us:

* parse every YAML float straight into :class:`~decimal.Decimal` — a price
  written as ``0.1`` never passes through a binary float;
* reject duplicate keys, which YAML would otherwise resolve silently to the
  last one (a classic way to trade with a size you did not mean);
* expand ``${VAR}`` / ``${VAR:-default}`` in strings while recording which
  values were interpolated, so errors can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from trading_config.interpolation import InterpolationError, interpolate

Loc = tuple[str | int, ...]

_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAP_TAG = "tag:yaml.org,2002:map"


@dataclass
class SourceMap:
    """Where each value of a loaded document came from.

    ``lines`` maps a location (tuple of keys/indices) to its 1-based line;
    ``origins`` maps locations that did not come from the file itself
    (environment overrides, command-line flags) to a label naming that source;
    ``interpolated`` maps locations whose text came from ``${VAR}`` to the
    variable names used.
    """

    file: str
    lines: dict[Loc, int] = field(default_factory=dict)
    origins: dict[Loc, str] = field(default_factory=dict)
    interpolated: dict[Loc, list[str]] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """Line of the value at ``loc`` or its nearest parent (0 when unknown)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 0

    def locate(self, loc: Loc) -> str:
        """``file:line`` (or ``file (origin)``) for the value at ``loc`` or its nearest parent."""
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            if prefix in self.origins:
                return f"{self.file} ({self.origins[prefix]})"
            if prefix in self.lines:
                return f"{self.file}:{self.lines[prefix]}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """A located problem found while reading (not fatal: validation still runs)."""

    loc: Loc
    line: int
    text: str


@dataclass
class SourceDocument:
    data: dict[str, Any]
    source: SourceMap
    problems: list[Problem] = field(default_factory=list)


class DocumentError(Exception):
    """Problems found while reading the file; each line is already fully located."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def read_document(
    path: Path, env: Mapping[str, str], display_name: str | None = None
) -> SourceDocument:
    """Read ``path`` into plain data (dict/list/str/int/Decimal/bool/None) plus its source map."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError([f"{name}: file not found"]) from None
    except IsADirectoryError:
        raise DocumentError([f"{name}: is a directory, expected a YAML file"]) from None
    except PermissionError:
        raise DocumentError([f"{name}: permission denied"]) from None
    except UnicodeDecodeError as exc:
        raise DocumentError([f"{name}: not UTF-8 text (byte {exc.start} is invalid)"]) from None
    return parse_document(text, name, env)


def parse_document(text: str, name: str, env: Mapping[str, str]) -> SourceDocument:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = exc.problem or exc.context or "syntax error"
        raise DocumentError([f"{where}: invalid YAML: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise DocumentError([f"{name}: invalid YAML: {exc}"]) from None
    if node is None:
        raise DocumentError(
            [f"{name}: the file is empty; expected a mapping with name, strategy and exchanges"]
        )
    source = SourceMap(file=name)
    builder = _Builder(source, env)
    data = builder.build(node, ())
    if not isinstance(data, dict):
        raise DocumentError(
            [
                f"{name}:{node.start_mark.line + 1}: expected a mapping at the top level, "
                f"found {describe_kind(data)}"
            ]
        )
    source.lines.setdefault((), node.start_mark.line + 1)
    return SourceDocument(data=data, source=source, problems=builder.problems)


def parse_scalar_text(text: str) -> Any:
    """Parse one value given as text (an env override) with the same rules as the file.

    ``"3"`` -> 3, ``"0.5"`` -> Decimal("0.5"), ``"true"`` -> True, ``"[a, b]"`` -> list;
    text that is not valid YAML is taken as a plain string.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return text
    if node is None:
        return None
    builder = _Builder(SourceMap(file="<value>"), env={}, expand=False)
    value = builder.build(node, ())
    return text if builder.problems else value


def describe_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return repr(value)


class _Builder:
    """Turns a node tree into plain data, recording lines and collecting problems."""

    def __init__(self, source: SourceMap, env: Mapping[str, str], expand: bool = True) -> None:
        self.source = source
        self.env = env
        self.expand = expand
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")

    def _problem(self, node: yaml.Node, loc: Loc, text: str) -> None:
        line = node.start_mark.line + 1
        self.problems.append(Problem(loc, line, f"{self.source.file}:{line}: {text}"))

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.source.lines[(*loc, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*loc, index)))
            return items
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, loc)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge_sources(value_node, loc))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, loc, f"{format_loc(loc)}: keys must be plain text")
                continue
            key = str(self._constructor.construct_object(key_node))
            line = key_node.start_mark.line + 1
            if key in first_line:
                self._problem(
                    key_node,
                    (*loc, key),
                    f"{format_loc((*loc, key))}: duplicate key "
                    f"(first defined on line {first_line[key]})",
                )
                continue
            first_line[key] = line
            self.source.lines[(*loc, key)] = line
            result[key] = self.build(value_node, (*loc, key))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_sources(self, node: yaml.Node, loc: Loc) -> dict[str, Any]:
        """YAML merge keys (``<<: *defaults``): explicit keys of the mapping win."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                self._problem(source, loc, f"{format_loc(loc)}: '<<' must merge a mapping")
                continue
            merged.update(self._mapping(source, loc))
        return merged

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        if node.tag == _FLOAT_TAG:
            try:
                number = Decimal(node.value.replace("_", ""))
            except InvalidOperation:
                return node.value  # .inf / .nan: left as text so validation rejects it clearly
            return number if number.is_finite() else node.value
        if node.tag == _STR_TAG:
            text = str(node.value)
            if not self.expand:
                return text
            try:
                expanded, names = interpolate(text, self.env)
            except InterpolationError as exc:
                self._problem(node, loc, f"{format_loc(loc)}: {exc}")
                return text
            if names:
                self.source.interpolated[loc] = names
            return expanded
        if node.tag == _MAP_TAG:
            return {}
        return self._constructor.construct_object(node)


def format_loc(loc: Loc) -> str:
    """``("strategy", "params", "venues", 0)`` -> ``strategy.params.venues[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"
