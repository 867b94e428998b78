"""Roles and the one table saying which role each command needs.

Roles are ordered (viewer < trader < admin): a role may use every command of the roles below
it. Keeping the table here means /help, the command menu and the role check wrapped around
each handler (:mod:`telegram_bot_service.guard`) can never disagree; a command missing from
the table cannot be registered at all (deny by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    VIEWER = 1
    TRADER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            known = ", ".join(role.label for role in cls)
            raise ValueError(f"unknown role {value!r}: expected one of {known}") from None


@dataclass(frozen=True)
class CommandSpec:
    name: str
    role: Role
    usage: str
    description: str


_V, _T, _A = Role.VIEWER, Role.TRADER, Role.ADMIN

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", _V, "/start", "who you are and what you may do"),
    CommandSpec("help", _V, "/help", "the commands you may use"),
    CommandSpec("bots", _V, "/bots", "every bot: state, uptime, PnL"),
    CommandSpec("status", _V, "/status BOT", "one bot in detail"),
    CommandSpec("positions", _V, "/positions [BOT]", "open positions"),
    CommandSpec("balances", _V, "/balances [BOT]", "balances per venue"),
    CommandSpec("orders", _V, "/orders BOT", "resting orders"),
    CommandSpec("pnl", _V, "/pnl [BOT]", "profit and loss, with an equity chart"),
    CommandSpec("stats", _V, "/stats BOT", "performance: attribution, Sharpe, drawdown, win rate"),
    CommandSpec("trades", _V, "/trades BOT [PAGE]", "closed trades, newest first"),
    CommandSpec("daily", _V, "/daily BOT", "PnL and trades per day"),
    CommandSpec("funding", _V, "/funding", "top funding-rate opportunities"),
    CommandSpec("opportunities", _V, "/opportunities [SYMBOL] [MIN_APR]", "real-venue spreads"),
    CommandSpec("funding_chart", _V, "/funding_chart SYMBOL LONG SHORT [DAYS]", "spread chart"),
    CommandSpec("logs", _V, "/logs BOT [N]", "the last N lines of a bot's log"),
    CommandSpec("configs", _V, "/configs", "bot configs that can be launched"),
    CommandSpec("subscribe", _V, "/subscribe [KIND ...|all]", "get alerts"),
    CommandSpec("unsubscribe", _V, "/unsubscribe [KIND ...|all]", "stop alerts"),
    CommandSpec("guard", _V, "/guard", "the fleet guard: losses across bots, tripped or not"),
    CommandSpec("signals", _V, "/signals [BOT] [N]", "latest signals, acted on or not"),
    CommandSpec("cancel", _V, "/cancel", "abandon the current dialogue"),
    CommandSpec("launch", _T, "/launch", "start a bot from a config"),
    CommandSpec("stop", _T, "/stop BOT", "stop a bot (keeping or closing positions)"),
    CommandSpec("restart", _T, "/restart BOT", "restart a bot"),
    CommandSpec("pause", _T, "/pause BOT", "stop opening positions"),
    CommandSpec("resume", _T, "/resume BOT", "open positions again"),
    CommandSpec("close", _T, "/close BOT POSITION", "close one position"),
    CommandSpec("new_config", _T, "/new_config", "write a paper grid config, step by step"),
    CommandSpec("killall", _A, "/killall", "stop every bot, closing positions"),
    CommandSpec("reset_kill", _A, "/reset_kill BOT REASON", "clear a bot's tripped kill switch"),
    CommandSpec("accounts", _A, "/accounts", "trading accounts and their venues"),
    CommandSpec("add_account", _A, "/add_account", "store an account's credentials"),
    CommandSpec("users", _A, "/users [add ID ROLE [NAME] | remove ID]", "who may use me"),
    CommandSpec("service", _A, "/service [start|stop NAME]", "services: state, start, stop"),
)

_BY_NAME = {spec.name: spec for spec in COMMANDS}


def required_role(command: str) -> Role | None:
    """The role ``command`` needs, or None for a command this service does not have."""
    spec = _BY_NAME.get(command.lower())
    return spec.role if spec is not None else None


def commands_for(role: Role) -> list[CommandSpec]:
    """The commands ``role`` may use, in /help order."""
    return [spec for spec in COMMANDS if spec.role <= role]
