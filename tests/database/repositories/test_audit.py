"""The audit trail records who did what, and never a secret."""

from __future__ import annotations

import getpass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.redaction import Secret
from database.models import AuditLogEntry
from database.repositories.audit import current_actor, record_audit


async def test_audit_row_records_actor_and_masks_secrets(db_session: AsyncSession) -> None:
    leaked = Secret("registered-secret-value-123")
    await record_audit(
        db_session,
        "proxy.add",
        "proxy 1",
        {"password": "hunter2hunter2", "note": f"url had {leaked.reveal()}", "port": 1080},
    )
    await db_session.commit()
    entry = await db_session.scalar(select(AuditLogEntry))
    assert entry is not None
    assert (entry.actor, entry.action, entry.target) == (getpass.getuser(), "proxy.add", "proxy 1")
    assert entry.details == {"password": "***", "note": "url had ***", "port": 1080}
    assert entry.ts.tzinfo is not None


def test_actor_is_the_os_user() -> None:
    assert current_actor() == getpass.getuser()
