"""Process-wide logging: structlog for our code, the same pipeline for libraries.

Readable console output when writing to a terminal, one JSON object per line
otherwise (or when asked), every line carrying the bound context (bot, venue,
symbol) and passed through both redaction nets of :mod:`core.redaction`
— including lines from third-party libraries that log through stdlib ``logging``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from core.redaction import redact_event_dict, scrub, scrub_rendered

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CONTEXT_KEYS = ("bot", "venue", "symbol", "account")

HANDLER_NAME = "perpfleet"

# Third-party libraries (database drivers, HTTP, Telegram's stack) log through stdlib logging;
# perpfleet logs through structlog. Below WARNING only perpfleet's lines are shown unless
# ``debug_libs`` - at DEBUG, aiosqlite alone wrote 98 % of the lines. The chattiest libraries
# are also held at WARNING at the source, so their records are not even created.
CHATTY_LIBRARIES = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "alembic",
    "httpx",
    "httpcore",
    "telegram",
)


class _OwnLinesBelowWarning(logging.Filter):
    """Pass every WARNING+ record, and below that only records logged through structlog."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or isinstance(record.msg, dict)


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_event_dict,
    ]


def configure_logging(
    level: str = "INFO",
    json: bool | None = None,
    stream: TextIO | None = None,
    *,
    debug_libs: bool = False,
) -> None:
    """Configure structlog and stdlib logging for this process.

    ``json=None`` picks JSON unless ``stream`` is a TTY. Safe to call again
    (tests, CLI flags parsed after an early default): it replaces our handler.
    ``level`` applies to perpfleet's own packages; third-party libraries stay at WARNING
    (or ``level`` when higher) unless ``debug_libs`` lets them log at ``level`` too.
    """
    level_name = level.upper()
    if level_name not in LEVELS:
        raise ValueError(f"unknown log level {level!r}: expected one of {', '.join(LEVELS)}")
    out = stream if stream is not None else sys.stderr
    use_json = (not out.isatty()) if json is None else json

    renderer: Any
    if use_json:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
        final = [structlog.processors.dict_tracebacks, renderer, scrub_rendered]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
        final = [renderer, scrub_rendered]

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(out)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == HANDLER_NAME:
            root.removeHandler(existing)
    if not debug_libs:
        handler.addFilter(_OwnLinesBelowWarning())
    root.addHandler(handler)
    root.setLevel(level_name)
    for library in CHATTY_LIBRARIES:
        logging.getLogger(library).setLevel(
            logging.NOTSET if debug_libs else max(logging.WARNING, root.level)
        )

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str, **context: Any) -> Any:
    """A structlog logger for ``name`` with ``context`` bound to every line.

    Stays lazy (binds on first use), so a module-level logger created before
    :func:`configure_logging` still follows the configuration set later.
    """
    return structlog.get_logger(name, **context)


def bind_context(**context: Any) -> None:
    """Bind keys (bot, venue, symbol ...) to every log line of this task/context."""
    structlog.contextvars.bind_contextvars(**context)


def clear_context() -> None:
    structlog.contextvars.clear_contextvars()


def install_excepthook() -> None:
    """Scrub secrets from tracebacks of uncaught exceptions before they reach stderr."""
    import traceback

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(scrub(text))

    sys.excepthook = hook
