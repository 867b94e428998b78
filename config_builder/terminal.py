"""``python -m config_builder``: write a bot config by answering questions.

Hand-writing a config means reading two schemas and knowing which venues need an account;
the builder asks for each value with its description, its default and its constraints, and
checks each answer as it is typed (with the loader's own messages), so the file it writes
loads and passes ``runbot.py --check`` first time. The questions come from the schemas (see
:mod:`config_builder.prompts`, the pure part); this module is the terminal and
database side: questionary prompts, the account list, writing the file.

Ctrl-C or Ctrl-D at any prompt exits 130 with "cancelled, nothing written"; without a
terminal (stdin or stdout not a TTY) it exits 2 at once, since there is nobody to ask.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import questionary
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent, merge_key_bindings
from pydantic import BaseModel, ValidationError

import strategies  # noqa: F401  (fills the params registry that config validation reads)
from config_builder.prompts import (
    BuilderAnswers,
    ExchangeChoice,
    build_config,
    check_round_trip,
    render_config,
    summary_lines,
    venues_named,
)
from core.errors import ConfigError
from core.logging_setup import configure_logging
from core.venues import VENUES
from database import create_engine, require_current_schema, session_maker
from database.models import MAIN_ACCOUNT
from database.repositories.accounts import AccountSummary, list_accounts
from trading_config.cli_parser import OneLineParser
from trading_config.questions import (
    Option,
    PromptSpec,
    ValueKind,
    Widget,
    answer_data,
    check_answer,
    fields_to_ask_again,
    format_value,
    model_problems,
    parse_text,
    specs_for_model,
)
from trading_config.schema import BotConfig, ControlApiConfig, RiskConfig
from trading_config.strategy_params import find_strategy_params, registered_strategies

EXIT_OK = 0
EXIT_NOT_WRITTEN = 1
EXIT_USER_ERROR = 2
EXIT_CANCELLED = 130

CANCELLED = "cancelled, nothing written"

# The few risk limits worth a question; the rest keep their defaults (see RiskConfig).
RISK_DESCRIPTIONS = {
    "max_position_notional_usd": "largest notional of one position, USD (entries shrink to fit)",
    "max_total_exposure_usd": "largest notional of all positions together, USD",
    "daily_loss_limit_usd": "loss in one UTC day, USD, that pauses entries until midnight",
    "max_drawdown_pct": "drawdown from peak equity, %, that trips the kill switch (flatten, stop)",
}


class Prompter(Protocol):
    """The questions the builder asks; questionary in a terminal, a script in tests."""

    def text(
        self,
        message: str,
        *,
        default: str = "",
        instruction: str = "",
        validate: Callable[[str], str | None] | None = None,
    ) -> str: ...

    def select(self, message: str, options: Sequence[Option], *, default: Any = None) -> Any: ...

    def checkbox(
        self,
        message: str,
        options: Sequence[Option],
        *,
        checked: Collection[Any] = (),
        instruction: str = "",
        validate: Callable[[list[Any]], str | None] | None = None,
    ) -> list[Any]: ...

    def confirm(self, message: str, *, default: bool) -> bool: ...

    def say(self, line: str = "") -> None: ...


class QuestionaryPrompter:
    """:class:`Prompter` on questionary: Enter keeps the pre-filled default, errors inline."""

    def text(
        self,
        message: str,
        *,
        default: str = "",
        instruction: str = "",
        validate: Callable[[str], str | None] | None = None,
    ) -> str:
        def verdict(text: str) -> bool | str:
            problem = validate(text) if validate is not None else None
            return True if problem is None else problem

        question = questionary.text(
            message,
            default=default,
            instruction=instruction or None,
            validate=verdict,
            validate_while_typing=False,
        )
        return str(_ask(question))

    def select(self, message: str, options: Sequence[Option], *, default: Any = None) -> Any:
        index = _index_of(options, default)
        choices = [questionary.Choice(option.title, value=i) for i, option in enumerate(options)]
        question = questionary.select(message, choices=choices, default=choices[index])
        return options[int(_ask(question))].value

    def checkbox(
        self,
        message: str,
        options: Sequence[Option],
        *,
        checked: Collection[Any] = (),
        instruction: str = "",
        validate: Callable[[list[Any]], str | None] | None = None,
    ) -> list[Any]:
        def verdict(indices: list[str]) -> bool | str:
            problem = validate([options[int(i)].value for i in indices]) if validate else None
            return True if problem is None else problem

        choices = [
            questionary.Choice(option.title, value=str(i), checked=option.value in checked)
            for i, option in enumerate(options)
        ]
        hint = "(space selects, Enter confirms" + (
            f"; {instruction.strip('()')})" if instruction else ")"
        )
        question = questionary.checkbox(
            message, choices=choices, validate=verdict, instruction=hint
        )
        return [options[int(i)].value for i in _ask(question)]

    def confirm(self, message: str, *, default: bool) -> bool:
        return bool(_ask(questionary.confirm(message, default=default)))

    def say(self, line: str = "") -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _abort_bindings() -> KeyBindings:
    """Ctrl-C and Ctrl-D end every kind of prompt the same way (questionary's own differ)."""
    bindings = KeyBindings()

    @bindings.add("c-c", eager=True)
    def _interrupt(event: KeyPressEvent) -> None:
        event.app.exit(exception=KeyboardInterrupt(), style="class:aborting")

    @bindings.add("c-d", eager=True)
    def _end_of_input(event: KeyPressEvent) -> None:
        event.app.exit(exception=EOFError(), style="class:aborting")

    return bindings


def _ask(question: Any) -> Any:
    """Run a questionary question; Ctrl-C/Ctrl-D raise instead of printing and returning None."""
    application = question.application
    own = application.key_bindings
    extra = _abort_bindings()
    application.key_bindings = extra if own is None else merge_key_bindings([own, extra])
    return question.unsafe_ask()


def _index_of(options: Sequence[Option], value: Any) -> int:
    for index, option in enumerate(options):
        if option.value == value and type(option.value) is type(value):
            return index
    return 0


# -- the questions ------------------------------------------------------------------------------


def ask_name(prompter: Prompter) -> str:
    spec = specs_for_model(BotConfig, ["name"], {"name": "bot name, unique in the fleet"})[0]
    spec = dataclasses.replace(spec, hint="(lowercase letters, digits, '-' and '_')")
    return str(ask_field(prompter, BotConfig, spec, {}))


def ask_strategy(prompter: Prompter) -> str:
    options = []
    for name in registered_strategies():
        schema = find_strategy_params(name)
        doc = (schema.__doc__ or "").strip().splitlines() if schema else []
        options.append(Option(name, f"{name}: {doc[0]}" if doc else name))
    return str(prompter.select("strategy", options))


def ask_field(
    prompter: Prompter, model: type[BaseModel], spec: PromptSpec, answers: Mapping[str, Any]
) -> Any:
    """Ask one field until the answer is valid; the previous answer (or default) pre-filled."""
    current = answers.get(spec.field, spec.default)

    def problem(value: Any) -> str | None:
        return check_answer(model, spec, value, answers)

    if spec.widget is Widget.CONFIRM:
        return prompter.confirm(spec.message, default=bool(current))
    if spec.widget is Widget.SELECT:
        return prompter.select(spec.message, spec.options, default=current)
    if spec.widget is Widget.CHECKBOX:
        chosen = prompter.checkbox(
            spec.message,
            spec.options,
            checked=current or (),
            instruction=spec.hint,
            validate=lambda values: problem(values or (None if spec.optional else [])),
        )
        return chosen or (None if spec.optional else [])
    text = prompter.text(
        spec.message,
        default=format_value(spec, current),
        instruction=spec.hint,
        validate=lambda typed: problem(parse_text(spec, typed)),
    )
    return parse_text(spec, text)


def ask_model(
    prompter: Prompter,
    model: type[BaseModel],
    specs: Sequence[PromptSpec],
    answers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Ask every field of ``specs``, then the whole model's rules; re-ask what they reject."""
    given: dict[str, Any] = dict(answers or {})
    pending = [spec.field for spec in specs]
    while True:
        for spec in specs:
            if spec.field in pending:
                given[spec.field] = ask_field(prompter, model, spec, given)
        problems = model_problems(model, answer_data(specs, given))
        if not problems:
            return answer_data(specs, given)
        prompter.say("These answers do not fit together:")
        for problem in problems:
            prompter.say(f"  - {problem.message}")
        pending = fields_to_ask_again(specs, problems)
        prompter.say(f"Asking again: {', '.join(pending)}")


def ask_exchanges(
    prompter: Prompter, venues: Sequence[str], accounts: AccountDirectory
) -> dict[str, ExchangeChoice]:
    """For each venue the strategy names: the database account to trade with (if it needs one)."""
    chosen: dict[str, ExchangeChoice] = {}
    for venue in venues:
        spec = VENUES[venue]
        if not spec.needs_credentials:
            prompter.say(f"{venue}: {spec.display_name}, no account needed")
            chosen[venue] = ExchangeChoice()
            continue
        chosen[venue] = _ask_account(prompter, venue, accounts)
    return chosen


def _ask_account(prompter: Prompter, venue: str, accounts: AccountDirectory) -> ExchangeChoice:
    add = f"`python -m database accounts add --name NAME --venue {venue}`"
    names = accounts.for_venue(venue)
    sub_account: str | None = None
    if names:
        unset = Option(None, "(leave unset: run with --account NAME)")
        options = [Option(name, name) for name in names]
        account = prompter.select(f"account for {venue}", [*options, unset], default=names[0])
        found = account is not None
        if account is not None:
            sub_account = _ask_sub_account(prompter, venue, account, accounts)
    else:
        if accounts.problem:
            prompter.say(f"cannot list accounts: {accounts.problem}")
        else:
            prompter.say(f"no account in the database has {venue} credentials yet.")
        prompter.say(f"Add one with {add} (now or later).")
        typed = prompter.text(
            f"account for {venue}: name of a database account",
            instruction="(empty = leave unset; runbot.py then needs --account NAME)",
            validate=_account_name_problem,
        ).strip()
        account = typed or None
        found = False
    testnet = prompter.confirm(f"use the {venue} test network?", default=False)
    return ExchangeChoice(
        account=account, sub_account=sub_account, testnet=testnet, credentials_found=found
    )


def _ask_sub_account(
    prompter: Prompter, venue: str, account: str, accounts: AccountDirectory
) -> str | None:
    """The sub-account to trade when ``account`` has sub-account credentials on ``venue``
    (``None`` = its main credentials); nothing is asked when it has only main ones."""
    stored = accounts.sub_accounts(account, venue)
    if stored == [MAIN_ACCOUNT]:
        return None
    options = [
        Option(None, "main account") if name == MAIN_ACCOUNT else Option(name, name)
        for name in stored
    ]
    chosen: str | None = prompter.select(
        f"sub-account of {account} on {venue}", options, default=options[0].value
    )
    return chosen


def _account_name_problem(text: str) -> str | None:
    if any(character.isspace() for character in text.strip()):
        return "an account name has no spaces"
    return None


def ask_risk(prompter: Prompter) -> dict[str, Any]:
    if not prompter.confirm("set risk limits? (default: no limits)", default=False):
        return {}
    specs = specs_for_model(RiskConfig, RISK_DESCRIPTIONS, RISK_DESCRIPTIONS)
    return ask_model(prompter, RiskConfig, specs)


def ask_control_api(prompter: Prompter) -> dict[str, Any]:
    enabled = prompter.confirm(
        "enable the control API? (REST on 127.0.0.1, bearer token; default: off)", default=False
    )
    if not enabled:
        return {"enabled": False}
    specs = specs_for_model(ControlApiConfig, ["port"])
    return {"enabled": True, **ask_model(prompter, ControlApiConfig, specs)}


def ask_path(prompter: Prompter, default: str) -> Path:
    """Where to write; an existing file is only replaced when the user says so."""
    while True:
        text = prompter.text(
            "write the config to",
            default=default,
            validate=_path_problem,
        ).strip()
        path = Path(text).expanduser()
        if not path.exists() or prompter.confirm(f"{text} exists: overwrite it?", default=False):
            return path
        default = text


def _path_problem(text: str) -> str | None:
    if not text.strip():
        return "expected a file path, e.g. configs/my-bot.yml"
    path = Path(text.strip()).expanduser()
    if path.is_dir():
        return f"{text.strip()} is a directory: expected a file path"
    if not path.suffix:
        return "expected a file name ending in .yml"
    return None


# -- accounts -----------------------------------------------------------------------------------


class AccountDirectory:
    """Which database accounts hold credentials for which venue; read once, on first need.

    Paper-only configs never open the database. An unusable database (not initialised,
    unreachable) is not fatal: the problem is shown and the account can be typed or left unset.
    """

    def __init__(self, load: Callable[[], list[AccountSummary]] | None = None) -> None:
        self._load = load or _load_accounts
        self._summaries: list[AccountSummary] | None = None
        self.problem: str | None = None

    def for_venue(self, venue: str) -> list[str]:
        if self._summaries is None:
            try:
                self._summaries = self._load()
            except ConfigError as exc:
                self.problem = "; ".join(exc.problems)
                self._summaries = []
        return accounts_with_credentials(self._summaries, venue)

    def sub_accounts(self, account: str, venue: str) -> list[str]:
        """Sub-accounts of ``account`` with credentials on ``venue`` (main first, as "")."""
        return sub_accounts_with_credentials(self._summaries or [], account, venue)


def accounts_with_credentials(summaries: Sequence[AccountSummary], venue: str) -> list[str]:
    """Accounts with credentials on ``venue``, for the main account or a sub-account (a
    config selects the sub-account with ``exchanges.<venue>.sub_account``)."""
    return [
        summary.name
        for summary in summaries
        if any(cred.venue == venue for cred in summary.credentials)
    ]


def sub_accounts_with_credentials(
    summaries: Sequence[AccountSummary], account: str, venue: str
) -> list[str]:
    """The sub-accounts of ``account`` holding ``venue`` credentials, main account ("") first."""
    return sorted(
        cred.sub_account
        for summary in summaries
        if summary.name == account
        for cred in summary.credentials
        if cred.venue == venue
    )


async def fetch_accounts() -> list[AccountSummary]:
    await require_current_schema()
    engine = create_engine()
    try:
        async with session_maker(engine)() as session:
            return await list_accounts(session)
    finally:
        await engine.dispose()


def _load_accounts() -> list[AccountSummary]:
    return asyncio.run(fetch_accounts())


# -- the session --------------------------------------------------------------------------------


def run(
    prompter: Prompter,
    *,
    output: str | None = None,
    accounts: AccountDirectory | None = None,
    today: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Path | None:
    """One builder session; returns the file written, or None when the user declined."""
    prompter.say("New bot config. Enter keeps the value shown; Ctrl-C cancels.")
    name = ask_name(prompter)
    strategy = ask_strategy(prompter)
    schema = find_strategy_params(strategy)
    assert schema is not None, f"strategy {strategy!r} was listed but has no params schema"
    prompter.say(f"{strategy} parameters:")
    params = ask_model(prompter, schema, specs_for_model(schema))
    venues = venues_named(schema.model_validate(params))
    exchanges = ask_exchanges(prompter, venues, accounts or AccountDirectory())
    risk = ask_risk(prompter)
    control_api = ask_control_api(prompter)
    answers = BuilderAnswers(name, strategy, params, exchanges, risk, control_api)
    config = build_config(answers)

    path = ask_path(prompter, output or f"configs/{name}.yml")
    shown = str(path)
    text = render_config(config, path=shown, made_on=today().date())
    # What runbot.py --check will see: the file as it loads back.
    loaded = check_round_trip(text, config, path=shown)
    prompter.say()
    for line in summary_lines(shown, loaded, answers):
        prompter.say(line)
    if not prompter.confirm(f"write {shown}?", default=True):
        return None
    write_atomically(path, text)
    return path


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash never leaves half a config."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        handle.write(text)
        temporary = Path(handle.name)
    temporary.replace(path)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m config_builder",
        description="Write a bot config (YAML) by answering questions, each checked as you go.",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="path offered for the config (default configs/<name>.yml)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.stderr.write(
            "error: the config builder asks questions and needs a terminal (stdin and stdout "
            "must be a TTY); to make a config without one, copy configs/paper_grid.yml and edit "
            "it, then check it with `python runbot.py --config FILE --check`\n"
        )
        return EXIT_USER_ERROR
    configure_logging("WARNING", stream=sys.stderr)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    try:
        written = run(QuestionaryPrompter(), output=args.output)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write(f"{CANCELLED}\n")
        return EXIT_CANCELLED
    except (ConfigError, ValidationError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\nnothing written\n")
        return EXIT_USER_ERROR
    except Exception as exc:  # a bug: one line, not a traceback over the prompts
        first_line = (str(exc).splitlines() or [""])[0]
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {first_line}\nnothing written\n")
        return EXIT_NOT_WRITTEN
    if written is None:
        sys.stdout.write("nothing written\n")
        return EXIT_NOT_WRITTEN
    sys.stdout.write(
        f"wrote {written}; check it with: python runbot.py --config {written} --check\n"
    )
    return EXIT_OK


__all__ = [
    "CANCELLED",
    "AccountDirectory",
    "Prompter",
    "QuestionaryPrompter",
    "ValueKind",
    "accounts_with_credentials",
    "ask_field",
    "ask_model",
    "main",
    "run",
]
