"""The master key: what it is, where it comes from, and how its file is kept safe.

A key comes from ``$PERPFLEET_MASTER_KEY`` (urlsafe base64 of 32 bytes) or
from the key file ``var/master.key``. The file is written so that no process
ever sees a partial or world-readable key: content goes to a private temp file
(``O_EXCL``, mode 0600), is synced, then hard-linked into place — ``link``
fails if the name exists, so two processes creating the key at once cannot
overwrite each other; the loser reads the winner's key.

Only the key's *fingerprint* (an HMAC of a fixed label under the key) is ever
shown or stored; it identifies a key without revealing anything about it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.paths import var_dir
from core.redaction import register_secret
from database.errors import MasterKeyError

MASTER_KEY_ENV = "PERPFLEET_MASTER_KEY"
NEW_MASTER_KEY_ENV = "PERPFLEET_NEW_MASTER_KEY"
KEY_FILE_NAME = "master.key"
PENDING_KEY_FILE_NAME = "master.key.new"
KEY_BYTES = 32
FINGERPRINT_BYTES = 16

_FINGERPRINT_LABEL = b"perpfleet master key fingerprint v1"
_ENCRYPTION_KEY_INFO = b"perpfleet credential encryption v1"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


@dataclass(frozen=True, repr=False, eq=False)
class MasterKey:
    """A 256-bit master key and where it came from (for error messages)."""

    material: bytes
    source: str
    fingerprint: bytes = field(init=False)
    aead: AESGCM = field(init=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise ValueError(f"a master key is {KEY_BYTES} bytes")
        digest = hmac.new(self.material, _FINGERPRINT_LABEL, hashlib.sha256).digest()
        object.__setattr__(self, "fingerprint", digest[:FINGERPRINT_BYTES])
        # The AES key is derived, not the master key itself, so the fingerprint HMAC and the
        # cipher never use the same key material.
        subkey = HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_ENCRYPTION_KEY_INFO
        ).derive(self.material)
        object.__setattr__(self, "aead", AESGCM(subkey))
        register_secret(self.encoded())

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()

    def encoded(self) -> str:
        """The key as written to the key file / environment (urlsafe base64)."""
        return base64.urlsafe_b64encode(self.material).decode("ascii")

    def __repr__(self) -> str:
        return f"MasterKey(fingerprint={self.fingerprint_hex}, source={self.source!r})"


def generate_key(source: str) -> MasterKey:
    return MasterKey(secrets.token_bytes(KEY_BYTES), source)


def parse_key(text: str, source: str) -> MasterKey:
    """Decode an encoded key; the error names the source, never the content."""
    stripped = text.strip()
    material = b""
    if _BASE64URL.fullmatch(stripped):
        unpadded = stripped.rstrip("=")
        with contextlib.suppress(binascii.Error):
            material = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    if len(material) != KEY_BYTES:
        raise MasterKeyError(
            f"{source} is not a valid master key: expected urlsafe base64 of {KEY_BYTES} random "
            "bytes (44 characters)"
        )
    return MasterKey(material, source)


def key_from_env(variable: str = MASTER_KEY_ENV) -> MasterKey | None:
    """The key in ``$variable``, or None when the variable is unset or empty."""
    value = os.environ.get(variable, "")
    return parse_key(value, variable) if value.strip() else None


def key_file_path() -> Path:
    return var_dir() / KEY_FILE_NAME


def pending_key_file_path() -> Path:
    """Where rotation writes the next key before the database switches to it."""
    return var_dir() / PENDING_KEY_FILE_NAME


def describe_file_source(path: Path) -> str:
    return f"key file {path}"


def read_key_file(path: Path) -> MasterKey:
    """Read a key file, refusing one that anyone but its owner could read or change."""
    source = describe_file_source(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise MasterKeyError(f"cannot read {source}: {exc.strerror}") from None
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise MasterKeyError(
                f"{source} is accessible by group/others (mode {mode:04o}); "
                f"fix with: chmod 600 {path}"
            )
        return parse_key(handle.read(), source)


def publish_key_file(path: Path, key: MasterKey) -> bool:
    """Create ``path`` holding ``key`` (mode 0600) unless it exists; True if this call made it.

    The content is complete and synced before the name appears, so a concurrent
    reader never sees a partial key.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.encoded() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        _fsync_directory(path.parent)
        return True
    finally:
        temp.unlink(missing_ok=True)


def replace_key_file(pending: Path, path: Path) -> None:
    """Atomically make the pending key the key file (the last step of a rotation)."""
    os.replace(pending, path)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a rename/link durable: without this a crash can forget the new directory entry."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
