"""``${VAR}`` and ``${VAR:-default}`` in config strings.

Lets one config serve several machines (``port: ${BOT_PORT:-8080}``) without
templating tools. ``$${`` writes a literal ``${``. A variable that is unset and
has no default is an error, never an empty string: an empty account name or
symbol would fail much later and much less clearly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PATTERN = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class InterpolationError(ValueError):
    """A ``${...}`` reference could not be resolved."""


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand references in ``text``; return the result and the variable names used."""
    if "$" not in text:
        return text, []
    used: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        body = match.group(1)
        if body is None:
            raise InterpolationError(f"unterminated '${{' in {text!r}: expected ${{VAR}}")
        name, has_default, default = body.partition(":-")
        if not _NAME.match(name):
            raise InterpolationError(
                f"invalid variable reference '${{{body}}}': "
                "expected ${NAME} or ${NAME:-default}"
            )
        used.append(name)
        if name in env:
            return env[name]
        if has_default:
            return default
        raise InterpolationError(
            f"environment variable {name} is not set (set it, or write ${{{name}:-default}})"
        )

    return _PATTERN.sub(replace, text), used
