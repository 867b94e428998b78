"""Loading a bot config: YAML file -> env interpolation -> overrides -> validated ``BotConfig``.

Order of precedence, lowest first: the file, ``PERPFLEET__SECTION__KEY``
environment overrides, command-line flags. Every problem found on the way is
collected and raised as one :class:`ConfigError` with one located line each.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import ConfigError
from core.venues import VENUES
from trading_config.error_messages import describe_validation_error
from trading_config.schema import BotConfig
from trading_config.yaml_source import (
    DocumentError,
    Loc,
    SourceDocument,
    SourceMap,
    format_loc,
    parse_scalar_text,
    read_document,
)

ENV_OVERRIDE_PREFIX = "PERPFLEET__"


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where each of its values came from (for later checks' errors)."""

    config: BotConfig
    source: SourceMap


@dataclass(frozen=True)
class CliOverrides:
    """Flags of ``runbot.py`` that change the loaded config."""

    account: str | None = None
    enable_control_api: bool = False
    control_api_port: int | None = None
    log_level: str | None = None
    enable_proxy: bool = False


def load_config(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    cli: CliOverrides | None = None,
) -> BotConfig:
    """Load and validate the config at ``path``; raise ``ConfigError`` listing every problem."""
    return load_config_with_source(path, env=env, cli=cli).config


def load_config_with_source(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    cli: CliOverrides | None = None,
) -> LoadedConfig:
    """Like :func:`load_config`, also returning the source map to locate later problems."""
    environment = os.environ if env is None else env
    try:
        document = read_document(Path(path), environment, display_name=str(path))
    except DocumentError as exc:
        raise ConfigError(exc.problems) from None
    override_problems = apply_env_overrides(document, environment)
    if cli is not None:
        override_problems += apply_cli_overrides(document, cli)
    try:
        config = BotConfig.model_validate(document.data)
    except ValidationError as exc:
        # A value already reported (say, an unset ${VAR}) is not reported twice.
        reported = {problem.loc for problem in document.problems}
        validation_problems = describe_validation_error(
            exc, document.source, document.data, BotConfig, skip=reported
        )
    else:
        validation_problems = []
    located = sorted([*document.problems, *validation_problems], key=lambda p: p.line)
    problems = [problem.text for problem in located] + override_problems
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(config, document.source)


def apply_env_overrides(document: SourceDocument, env: Mapping[str, str]) -> list[str]:
    """Apply ``PERPFLEET__A__B=value`` as ``a.b: value``; return problems found."""
    problems: list[str] = []
    for name in sorted(env):
        if not name.startswith(ENV_OVERRIDE_PREFIX):
            continue
        parts = name[len(ENV_OVERRIDE_PREFIX) :].lower().split("__")
        if not all(parts):
            problems.append(
                f"{document.source.file} (env {name}): expected PERPFLEET__SECTION__KEY "
                "with non-empty parts separated by double underscores"
            )
            continue
        problem = _set(document, tuple(parts), parse_scalar_text(env[name]), f"env {name}")
        if problem:
            problems.append(problem)
    return problems


def apply_cli_overrides(document: SourceDocument, cli: CliOverrides) -> list[str]:
    """Apply the flags; return problems found (a flag that could have no effect)."""
    problems: list[str] = []
    exchanges = document.data.get("exchanges")
    venues = list(exchanges) if isinstance(exchanges, dict) else []
    for venue in venues:
        if cli.account is not None:
            _set(document, ("exchanges", venue, "account"), cli.account, "--account")
    if cli.enable_proxy:
        # Real venues only: a simulated venue sends no account traffic (use_proxy is refused
        # there), and a flag that silently does nothing would look like protection.
        real = [
            v for v in venues if isinstance(v, str) and v in VENUES and VENUES[v].kind != "paper"
        ]
        for venue in real:
            _set(document, ("exchanges", venue, "use_proxy"), True, "--enable-proxy")
        if venues and not real:
            problems.append(
                f"{document.source.file} (--enable-proxy): the config has no real venue; "
                "proxies carry real venues' traffic only"
            )
    if cli.enable_control_api:
        _set(document, ("control_api", "enabled"), True, "--enable-control-api")
    if cli.control_api_port is not None:
        _set(document, ("control_api", "port"), cli.control_api_port, "--control-api-port")
    if cli.log_level is not None:
        _set(document, ("logging", "level"), cli.log_level, "--log-level")
    return problems


def _set(document: SourceDocument, loc: tuple[str, ...], value: Any, origin: str) -> str | None:
    """Set ``loc`` in the document (creating empty sections) and remember where it came from."""
    node: Any = document.data
    for depth, key in enumerate(loc[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            where = format_loc(loc[: depth + 1])
            return (
                f"{document.source.file} ({origin}): {format_loc(loc)}: cannot set it because "
                f"{where} is not a mapping"
            )
        node = child
    node[loc[-1]] = value
    document.source.origins[loc] = origin
    return None


def dump_config(config: BotConfig) -> str:
    """YAML text for ``config`` that loads back to an equal config (numbers stay exact)."""
    data = config.model_dump(mode="python", by_alias=True, exclude_defaults=True)
    return yaml.dump(data, Dumper=_ConfigDumper, sort_keys=False, allow_unicode=True)


def save_config(config: BotConfig, path: str | Path) -> None:
    """Write ``config`` to ``path`` atomically (a crash never leaves half a config)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    ) as handle:
        handle.write(dump_config(config))
        temporary = Path(handle.name)
    temporary.replace(target)


class _ConfigDumper(yaml.SafeDumper):
    """Writes Decimals as plain YAML numbers, never in exponent form."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_ConfigDumper.add_representer(Decimal, _represent_decimal)

__all__ = [
    "CliOverrides",
    "ConfigError",
    "LoadedConfig",
    "Loc",
    "SourceMap",
    "apply_cli_overrides",
    "apply_env_overrides",
    "dump_config",
    "load_config",
    "load_config_with_source",
    "save_config",
]
