"""What each encrypted field is bound to (the AES-GCM associated data).

Shared by the repositories that write blobs and by key rotation, which must
rebuild exactly the same context to re-encrypt a row.
"""

from __future__ import annotations

import json

from database.crypto.cipher import BLOB_VERSION, Context, Unlisted
from database.models import AccountCredential, Proxy


def credential_context(row: AccountCredential, version: int = BLOB_VERSION) -> Context:
    """Bound to account, venue and sub-account: moving a blob to another account fails.

    From version 2 on, also to the row's public fields and secret-field names (canonical JSON),
    so editing e.g. ``sub_account_email`` in the database makes decryption fail: the public
    fields are used to trade (which sub-account, which wallet) and must be what was stored.
    """
    where: tuple[str | int, ...] = (
        "account_credentials",
        row.account_id,
        row.venue,
        row.sub_account,
    )
    if version < 2:
        return (*where, "secrets")
    public = json.dumps(
        {"public_fields": row.public_fields, "secret_fields": sorted(row.secret_fields)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return (*where, Unlisted(public), "secrets")


def proxy_context(row: Proxy) -> Context:
    """Bound to the endpoint too: re-pointing a row at another host cannot leak the login there."""
    return ("proxies", row.id, row.scheme, row.host, row.port, "auth")
