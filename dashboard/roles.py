"""Dashboard roles and which one each control needs: one table, so the page and the check
never disagree (a control missing here is refused to everyone)."""

from __future__ import annotations

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


CONTROLS: dict[str, Role] = {
    "pause": Role.TRADER,
    "resume": Role.TRADER,
    "stop": Role.TRADER,
    "close": Role.TRADER,
    "launch": Role.TRADER,
    # Kill: the bot's kill switch (cancel every order, close every position, stop; engaged in
    # its saved state, so it stays killed until reset).
    "kill": Role.ADMIN,
    "reset-kill": Role.ADMIN,
}


def required_role(control: str) -> Role | None:
    return CONTROLS.get(control)
