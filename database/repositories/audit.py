"""The audit trail: who changed what, without ever recording a secret."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.redaction import redact
from database.models import AuditLogEntry


def current_actor() -> str:
    """The OS user running this process (falls back to the uid in bare containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


async def record_audit(
    session: AsyncSession,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    actor: str | None = None,
) -> None:
    """Add an audit row in the caller's transaction.

    ``details`` goes through :func:`~core.redaction.redact` as a last
    net: secret-named keys are masked and registered secret values scrubbed.
    """
    session.add(
        AuditLogEntry(
            actor=actor or current_actor(),
            action=action,
            target=target,
            details=redact(dict(details or {})),
        )
    )
    await session.flush()
