"""Sealed blobs: AES-256-GCM ciphertext bound to a master key and to the row it lives in.

Blob layout (all binary)::

    version (1 byte: 1 or 2) | key fingerprint (16) | nonce (12) | ciphertext + GCM tag (16)

The fingerprint lets a wrong key be reported as "wrong key" instead of as a
generic decryption failure. The associated data (authenticated, not stored) is
``version | fingerprint | context``, where the context names the row and field
(``["account_credentials", account_id, venue, sub_account, "secrets"]``). So a
blob copied into another row, or a row re-pointed at another account or proxy
host, fails authentication just like a flipped bit: it is reported as tampering.

Version 2 (every blob written now) is the same layout; the version says what the *caller*
binds in the context. For credential rows a version-2 context also holds the row's public
fields and the names of its secret fields (:mod:`database.crypto.contexts`): version 1 left them
unauthenticated, and an injected ``sub_account_email`` was accepted. Version-1 blobs stay
readable (their context is rebuilt the old way) and are rewritten as version 2 on the next write
of the row: when the runtime reads them, or by key rotation.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag

from database.crypto.keys import FINGERPRINT_BYTES, MasterKey
from database.errors import SecretTampered, WrongMasterKey

BLOB_VERSION = 2
"""Version of every blob :func:`seal` writes."""
READABLE_VERSIONS = frozenset({1, 2})
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER_BYTES = 1 + FINGERPRINT_BYTES + NONCE_BYTES

Context = Sequence[str | int]


class Unlisted(str):
    """A context part that is authenticated but left out of messages (long, or personal)."""

    __slots__ = ()


def blob_version(blob: bytes) -> int:
    """The format version of a sealed blob (0 for an empty one)."""
    return blob[0] if blob else 0


def seal(
    key: MasterKey, plaintext: bytes, context: Context, *, version: int = BLOB_VERSION
) -> bytes:
    """Encrypt ``plaintext`` under ``key``, bound to ``context``.

    ``version`` other than the current one is for tests of old rows only.
    """
    if version not in READABLE_VERSIONS:
        raise ValueError(f"unknown blob version {version}")
    prefix = bytes([version]) + key.fingerprint
    nonce = secrets.token_bytes(NONCE_BYTES)
    return prefix + nonce + key.aead.encrypt(nonce, plaintext, prefix + _encode(context))


def unseal(key: MasterKey, blob: bytes, context: Context) -> bytes:
    """Decrypt a blob made by :func:`seal` with the same key and context.

    Raises :class:`WrongMasterKey` when the blob names another key, and
    :class:`SecretTampered` when it is malformed or fails authentication.
    """
    where = describe(context)
    if len(blob) < _HEADER_BYTES + TAG_BYTES or blob[0] not in READABLE_VERSIONS:
        raise SecretTampered(f"stored secret {where} is malformed (unknown format or truncated)")
    prefix, nonce, ciphertext = (
        blob[: 1 + FINGERPRINT_BYTES],
        blob[1 + FINGERPRINT_BYTES : _HEADER_BYTES],
        blob[_HEADER_BYTES:],
    )
    fingerprint = prefix[1:]
    if fingerprint != key.fingerprint:
        raise WrongMasterKey(
            f"stored secret {where} was encrypted with master key {fingerprint.hex()}, but the "
            f"active key ({key.source}) is {key.fingerprint_hex}"
        )
    try:
        return key.aead.decrypt(nonce, ciphertext, prefix + _encode(context))
    except InvalidTag:
        raise SecretTampered(
            f"stored secret {where} failed authentication: its ciphertext (or a field bound to "
            "it) was altered or moved from another row"
        ) from None


def seal_fields(key: MasterKey, fields: Mapping[str, str], context: Context) -> bytes:
    """Seal a ``{name: value}`` mapping of secret fields as one blob."""
    return seal(key, json.dumps(dict(fields), separators=(",", ":")).encode("utf-8"), context)


def unseal_fields(key: MasterKey, blob: bytes, context: Context) -> dict[str, str]:
    """Open a blob made by :func:`seal_fields`."""
    fields = json.loads(unseal(key, blob, context).decode("utf-8"))
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise SecretTampered(f"stored secret {describe(context)} does not hold secret fields")
    return fields


def describe(context: Context) -> str:
    """Human-readable context for messages (holds identifiers only, never secrets)."""
    return "[" + "/".join(str(part) for part in context if not isinstance(part, Unlisted)) + "]"


def _encode(context: Context) -> bytes:
    # JSON keeps parts unambiguous ("a/b" + "c" differs from "a" + "b/c") and types distinct.
    return json.dumps(list(context), separators=(",", ":")).encode("utf-8")
