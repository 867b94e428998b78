"""What each encrypted field is bound to (the AES-GCM associated data).

Shared by the repositories that write blobs and by key rotation, which must
rebuild exactly the same context to re-encrypt a row.
"""

from __future__ import annotations

from database.crypto.cipher import Context
from database.models import AccountCredential, Proxy


def credential_context(row: AccountCredential) -> Context:
    """Bound to account, venue and sub-account: moving a blob to another account fails."""
    return ("account_credentials", row.account_id, row.venue, row.sub_account, "secrets")


def proxy_context(row: Proxy) -> Context:
    """Bound to the endpoint too: re-pointing a row at another host cannot leak the login there."""
    return ("proxies", row.id, row.scheme, row.host, row.port, "auth")
