"""/new_config: a paper config for any registered strategy, asked field by field from its schema,
written to ``configs/<name>.yml`` only once it validates.

The questions are the terminal builder's (:mod:`trading_config.questions`): one per required
field of the strategy's params model, worded from the schema, each answer checked with the
loader's own wording as it comes (:func:`~trading_config.questions.check_answer`), cross-field
rules once all are known (the fields they name are asked again). A new strategy gets its chat
dialogue for free. What a chat adds: venue fields offer the paper venues only (a chat never
writes a config that trades real money), numbers are read as plain text within bounds
(:mod:`telegram_bot_service.bounds`), and optional fields keep their defaults (edit the file to
tune them).

The file is built as a :class:`~trading_config.schema.BotConfig`, written atomically by
:func:`~trading_config.loader.save_config`, then loaded back with
:func:`~trading_config.loader.load_config` — what /launch will do with it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from telegram import Update
from telegram.ext import (
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

import strategies  # noqa: F401  (fills the params registry that config validation reads)
from core.errors import ConfigError
from core.venues import VENUES
from telegram_bot_service.bounds import number_rule
from telegram_bot_service.caller import Caller, caller_of
from telegram_bot_service.commands.common import reply
from telegram_bot_service.formatting import clip, escape
from telegram_bot_service.guard import Callback, Guarded, command
from telegram_bot_service.roles import Role
from telegram_bot_service.services import services_of
from trading_config.loader import load_config, save_config
from trading_config.questions import (
    MISSING,
    MULTI_VENUE_FIELDS,
    SINGLE_VENUE_FIELDS,
    PromptSpec,
    ValueKind,
    answer_data,
    check_answer,
    fields_to_ask_again,
    model_problems,
    parse_text,
    specs_for_model,
)
from trading_config.schema import NAME_PATTERN, BotConfig
from trading_config.strategy_params import (
    StrategyParams,
    registered_strategies,
    strategy_params_schema,
)

NAME, STRATEGY, PARAM = range(3)
DATA_KEY = "perpfleet.new_config"
MAX_ANSWER_CHARS = 200
PAPER_VENUES = tuple(name for name, venue in VENUES.items() if not venue.needs_credentials)
_YES = {"yes", "y", "true"}
_NO = {"no", "n", "false"}


def _state(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    assert context.user_data is not None
    data: dict[str, Any] = context.user_data.setdefault(DATA_KEY, {})
    return data


def _forget(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(DATA_KEY, None)


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message is not None else ""


# -- one question ----------------------------------------------------------------------------


def question(spec: PromptSpec) -> str:
    """The question for ``spec``, as a chat asks it (choices listed, bounds said)."""
    text = spec.message
    if spec.field in SINGLE_VENUE_FIELDS:
        return f"{text}\nOne of: {', '.join(PAPER_VENUES)}"
    if spec.field in MULTI_VENUE_FIELDS:
        return f"{text} {spec.hint}\nComma-separated, from: {', '.join(PAPER_VENUES)}".strip()
    if spec.kind is ValueKind.CHOICE:
        return f"{text}\nOne of: {', '.join(option.title for option in spec.options)}"
    if spec.kind is ValueKind.BOOLEAN:
        return f"{text}\nyes or no"
    return f"{text} {spec.hint}".strip()


def read_answer(
    schema: type[StrategyParams], spec: PromptSpec, text: str, answers: dict[str, Any]
) -> tuple[Any, str | None]:
    """The value of an answer, or the line to reply with (and ask again)."""
    if len(text) > MAX_ANSWER_CHARS:
        return MISSING, f"An answer is {MAX_ANSWER_CHARS} characters at most."
    value: Any
    if spec.field in SINGLE_VENUE_FIELDS:
        if text not in PAPER_VENUES:
            return MISSING, f"Answer one of: {', '.join(PAPER_VENUES)} (paper venues only)."
        value = text
    elif spec.field in MULTI_VENUE_FIELDS:
        value = parse_text(spec, text)
        if not value or any(venue not in PAPER_VENUES for venue in value):
            return MISSING, f"Name venues from: {', '.join(PAPER_VENUES)} (paper venues only)."
    elif spec.kind is ValueKind.CHOICE:
        chosen = [o for o in spec.options if o.title.lower() == text.lower()]
        if not chosen:
            return MISSING, f"Answer one of: {', '.join(o.title for o in spec.options)}."
        value = chosen[0].value
    elif spec.kind is ValueKind.BOOLEAN:
        if text.lower() not in _YES | _NO:
            return MISSING, "Answer yes or no."
        value = text.lower() in _YES
    elif spec.kind in (ValueKind.DECIMAL, ValueKind.INTEGER):
        integer = spec.kind is ValueKind.INTEGER
        rule = number_rule(schema.model_fields[spec.field], spec.field, integer=integer)
        number = rule.read(text)
        if number is None:
            return MISSING, rule.explain()
        value = int(number) if integer else number
    elif spec.kind in (ValueKind.STRING, ValueKind.STRING_LIST):
        value = parse_text(spec, text)
    else:
        return MISSING, "This field cannot be answered in a chat: write the file instead."
    problem = check_answer(schema, spec, value, answers)
    return (MISSING, problem) if problem else (value, None)


# -- the dialogue ----------------------------------------------------------------------------


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    _forget(context)
    await reply(
        update,
        "A new paper config (send /cancel at any time).\n"
        "Bot name? (lowercase letters, digits, _ and -; it is also the file name)",
    )
    return NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    name = _text(update)
    if not re.fullmatch(NAME_PATTERN, name):
        await reply(
            update, "Use lowercase letters, digits, _ and - (starting with a letter or digit)."
        )
        return NAME
    if (services_of(context).configs_dir / f"{name}.yml").exists():
        await reply(update, f"configs/{escape(name)}.yml already exists; pick another name.")
        return NAME
    _state(context)["name"] = name
    known = registered_strategies()
    if len(known) == 1:
        return await _start_params(update, context, known[0])
    await reply(update, f"Strategy? One of: {', '.join(known)}")
    return STRATEGY


async def got_strategy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    strategy = _text(update).lower()
    if strategy not in registered_strategies():
        await reply(update, f"Answer one of: {', '.join(registered_strategies())}.")
        return STRATEGY
    return await _start_params(update, context, strategy)


async def _start_params(update: Update, context: ContextTypes.DEFAULT_TYPE, strategy: str) -> int:
    state = _state(context)
    state["strategy"] = strategy
    state["answers"] = {}
    specs = specs_for_model(strategy_params_schema(strategy))
    state["queue"] = [spec.field for spec in specs if spec.required]
    await reply(
        update,
        f"{len(state['queue'])} questions about {escape(strategy)}; the other parameters keep "
        f"their defaults.\n{escape(question(_spec(strategy, state['queue'][0])))}",
    )
    return PARAM


def _spec(strategy: str, field: str) -> PromptSpec:
    [spec] = specs_for_model(strategy_params_schema(strategy), [field])
    return spec


async def got_param(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    state = _state(context)
    strategy: str = state["strategy"]
    schema = strategy_params_schema(strategy)
    spec = _spec(strategy, state["queue"][0])
    value, problem = read_answer(schema, spec, _text(update), state["answers"])
    if problem is not None:
        await reply(update, escape(problem))
        return PARAM
    state["answers"][spec.field] = value
    state["queue"].pop(0)
    if not state["queue"]:
        problems = model_problems(schema, answer_data(specs_for_model(schema), state["answers"]))
        if not problems:
            return await _write(update, context)
        again = fields_to_ask_again(specs_for_model(schema), problems)
        state["queue"] = again
        for field in again:
            state["answers"].pop(field, None)
        said = "; ".join(problem.message for problem in problems)
        await reply(update, f"{escape(said)}\nAgain: {escape(question(_spec(strategy, again[0])))}")
        return PARAM
    await reply(update, escape(question(_spec(strategy, state["queue"][0]))))
    return PARAM


async def _write(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    state = _state(context)
    services = services_of(context)
    name: str = state["name"]
    strategy: str = state["strategy"]
    schema = strategy_params_schema(strategy)
    params = answer_data(specs_for_model(schema), state["answers"])
    path = services.configs_dir / f"{name}.yml"
    try:
        venues = dict.fromkeys(schema.model_validate(params).venue_references().values())
        config = BotConfig.model_validate(
            {
                "name": name,
                "strategy": {"type": strategy, "params": params},
                "exchanges": {venue: {} for venue in venues},
            }
        )
    except ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors())
        await reply(update, f"That config does not validate: {escape(clip(problems, 600))}")
        _forget(context)
        return ConversationHandler.END
    if path.exists():
        await reply(update, f"configs/{escape(name)}.yml appeared meanwhile; nothing written.")
        _forget(context)
        return ConversationHandler.END
    save_config(config, path)
    try:
        load_config(path)
    except ConfigError as exc:
        path.unlink(missing_ok=True)
        await reply(update, f"Not written: {escape('; '.join(exc.problems))}")
        _forget(context)
        return ConversationHandler.END
    await services.audit(
        caller_of(context).actor,
        "telegram.config.create",
        str(path),
        {"strategy": strategy, "venues": list(venues)},
    )
    _forget(context)
    await reply(
        update,
        f"Wrote <code>{escape(Path(path).name)}</code>: "
        f"{escape(config.strategy.params.summary())}. Launch it with /launch.",
    )
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    _forget(context)
    await reply(update, "Cancelled: no config written.")
    return ConversationHandler.END


async def _refused(
    update: Update, context: ContextTypes.DEFAULT_TYPE, caller: Caller | None
) -> int:
    """A step by someone who is no longer a trader: the dialogue ends."""
    _forget(context)
    return ConversationHandler.END


def _step(callback: Callback) -> Guarded:
    """A step of the dialogue, with the trader role checked again."""
    return Guarded(callback, Role.TRADER, "new_config", on_refused=_refused)


def new_config_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    text = filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
    new_only = filters.UpdateType.MESSAGE
    return ConversationHandler(
        entry_points=[CommandHandler("new_config", command("new_config", begin), new_only)],
        states={
            NAME: [MessageHandler(text, _step(got_name))],
            STRATEGY: [MessageHandler(text, _step(got_strategy))],
            PARAM: [MessageHandler(text, _step(got_param))],
        },
        fallbacks=[
            CommandHandler("cancel", command("cancel", cancel, on_refused=_refused), new_only)
        ],
        name="new_config",
        allow_reentry=True,
    )
