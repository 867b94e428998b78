"""The fleet guard's settings: a small YAML file, read with the bot configs' rules and errors.

A file rather than a settings row: the limits that can stop every bot are reviewed and
versioned like the bot configs next to them, and the guard reads them at start (a change
takes a guard restart). Example (``configs/fleet_guard.yml``)::

    action: pause            # pause: stop entries on every bot; kill: flatten and stop every bot
    interval_seconds: 30     # how often the guard looks at the fleet
    total:                   # the whole fleet: every account's equity summed
      max_drawdown_pct: 10   # from the highest total equity seen
      daily_loss_usd: 500    # since the first look of the UTC day
    per_account:             # each account on its own (venue + database account)
      max_drawdown_pct: 15
      daily_loss_usd: 300

Every limit is optional; at least one must be set (a guard without a limit guards nothing).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import ConfigError
from trading_config.error_messages import describe_validation_error
from trading_config.yaml_source import DocumentError, read_document

GuardAction = Literal["pause", "kill"]


class GuardLimits(BaseModel):
    """Limits of one scope (the fleet's total, or each account)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_drawdown_pct: Decimal | None = Field(
        None, gt=0, le=100, description="drawdown from the highest equity seen, percent"
    )
    daily_loss_usd: Decimal | None = Field(
        None, gt=0, description="loss since the first look of the UTC day, USD"
    )

    @property
    def any(self) -> bool:
        return self.max_drawdown_pct is not None or self.daily_loss_usd is not None


class GuardConfig(BaseModel):
    """What the guard watches and what it does when a limit is reached."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: GuardAction = Field(
        "pause",
        description="pause: no new entries on any bot; kill: close every position, stop every bot",
    )
    interval_seconds: float = Field(30.0, ge=1, le=3600, description="seconds between looks")
    total: GuardLimits = GuardLimits()
    per_account: GuardLimits = GuardLimits()

    @model_validator(mode="after")
    def _some_limit(self) -> GuardConfig:
        if not (self.total.any or self.per_account.any):
            raise ValueError(
                "no limit is set: give total or per_account a max_drawdown_pct or daily_loss_usd"
            )
        return self


def load_guard_config(path: str | Path) -> GuardConfig:
    """The guard's config at ``path``; ConfigError with one located line per problem."""
    try:
        document = read_document(Path(path), os.environ, display_name=str(path))
    except DocumentError as exc:
        raise ConfigError(exc.problems) from None
    try:
        config = GuardConfig.model_validate(document.data)
    except ValidationError as exc:
        problems = describe_validation_error(exc, document.source, document.data, GuardConfig)
        raise ConfigError([problem.text for problem in problems]) from None
    if document.problems:
        raise ConfigError([problem.text for problem in document.problems])
    return config
