"""Bot logs for a person: the JSON lines a fleet bot writes, rendered like the console renderer.

Fleet bots log JSON (``--log-json``: one object a line, easy for machines and log shippers).
In a terminal that is a wall of braces, so ``fleet logs`` renders each JSON line the way the
bot itself would in a terminal (structlog's ConsoleRenderer: time, level, event, logger,
key=value), tracebacks as tracebacks. Lines that are not JSON (a bot's one-line start-up error
on stderr, supervisord's own messages) pass through unchanged. ``--json`` keeps the raw lines.
"""

from __future__ import annotations

import json
from typing import Any

import structlog


def render(text: str, *, colors: bool = False) -> str:
    renderer = structlog.dev.ConsoleRenderer(colors=colors)
    return "\n".join(_render_line(renderer, line) for line in text.splitlines())


def _render_line(renderer: structlog.dev.ConsoleRenderer, line: str) -> str:
    if not line.startswith("{"):
        return line
    try:
        event = json.loads(line)
    except ValueError:
        return line
    if not isinstance(event, dict) or "event" not in event:
        return line
    exception = event.pop("exception", None)
    level = str(event.get("level", "info"))
    rendered = str(renderer(None, level, event))
    if exception:
        rendered += "\n" + _traceback(exception)
    return rendered


def _traceback(exception: Any) -> str:
    """``dict_tracebacks``' structure back into the text Python prints (or the text as is)."""
    if not isinstance(exception, list):
        return str(exception)
    lines: list[str] = []
    for chained in exception:
        if not isinstance(chained, dict):
            continue
        lines.append("Traceback (most recent call last):")
        for frame in chained.get("frames", []):
            lines.append(
                f'  File "{frame.get("filename")}", line {frame.get("lineno")}, '
                f"in {frame.get('name')}"
            )
        lines.append(f"{chained.get('exc_type')}: {chained.get('exc_value')}")
    return "\n".join(lines)
