"""Every command the code suggests to a user parses with the real CLI it names.

Error messages end with a command to run (``add it with `python -m database accounts add ...```);
a hint the CLI rejects (a missing ``--name``) sends the user from one error to another. This test
reads every back-quoted ``python -m ...`` / ``python runbot.py ...`` in the shipped source, fills
the f-string placeholders with a sample word and parses the result with that CLI's own parser.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from core.paths import PROJECT_ROOT

HINT = re.compile(r"`(python (?:-m [a-z_.]+|runbot\.py)[^`]*)`")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
SOURCE_DIRS = [
    "backtest",
    "bot_runtime",
    "config_builder",
    "core",
    "dashboard",
    "database",
    "exchange_clients",
    "execution",
    "fleet",
    "networking",
    "strategies",
    "telegram_bot_service",
    "trading_config",
]


def _parser_for(program: str) -> Callable[[], argparse.ArgumentParser] | None:
    if program == "database":
        from database.cli import build_parser as database_parser

        return database_parser
    if program == "fleet":
        from fleet.cli import build_parser as fleet_parser

        return fleet_parser
    if program == "runbot.py":
        from bot_runtime.cli import build_parser as runbot_parser

        return runbot_parser
    if program == "config_builder":
        from config_builder.terminal import build_parser as builder_parser

        return builder_parser
    if program == "bot_runtime.report":
        from bot_runtime.report import build_parser as report_parser

        return report_parser
    if program == "dashboard":
        from dashboard.cli import build_parser as dashboard_parser

        return dashboard_parser
    if program == "backtest":
        from backtest.cli import build_parser as backtest_parser

        return backtest_parser
    if program == "backtest.record":
        from backtest.record import build_parser as record_parser

        return record_parser
    if program == "telegram_bot_service":
        from telegram_bot_service.cli import build_parser as telegram_parser

        return telegram_parser
    return None


def _hints() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for folder in SOURCE_DIRS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            # Implicitly concatenated string literals: join `"... "\n   f"..."` pieces.
            joined = re.sub(r"\"\s*\n\s*f?\"", "", text)
            for match in HINT.finditer(joined):
                if _is_full_command(match.group(1)):
                    found.append((str(Path(path).relative_to(PROJECT_ROOT)), match.group(1)))
    return found


def _is_full_command(hint: str) -> bool:
    """A command to run, not a program named in prose (`python -m fleet`, `... launch` that
    says which command wrote a file): it has arguments or options after the subcommand."""
    words = hint.split()
    rest = words[3:] if words[1] == "-m" else words[2:]
    return "..." not in hint and (len(rest) >= 2 or any(w.startswith("-") for w in rest))


HINTS = _hints()


def test_the_source_suggests_commands() -> None:
    """The scan itself works: the account hints are known to exist."""
    assert any("accounts add" in hint for _, hint in HINTS)
    assert len(HINTS) >= 8


@pytest.mark.parametrize(("where", "hint"), HINTS, ids=[f"{w}:{h}" for w, h in HINTS])
def test_hint_parses_with_the_real_cli(where: str, hint: str) -> None:
    words = shlex.split(PLACEHOLDER.sub("sample", hint))
    program = words[2] if words[1] == "-m" else words[1]
    parser = _parser_for(program)
    assert parser is not None, f"{where}: hint names an unknown program: {hint}"
    args = words[3:] if words[1] == "-m" else words[2:]
    if program == "runbot.py" and "FILE" in args:
        args = [arg if arg != "FILE" else "configs/paper_grid.yml" for arg in args]
    try:
        parser().parse_args(args)
    except SystemExit as exc:
        pytest.fail(f"{where}: the suggested command does not parse (exit {exc.code}): {hint}")
