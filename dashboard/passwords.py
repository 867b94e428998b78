"""Password hashing with scrypt (memory-hard, in the standard library: no extra dependency).

The stored string names its parameters (``scrypt$n=...,r=...,p=...$salt$hash``), so raising
the cost later keeps old hashes verifiable. n=2**15, r=8 costs 32 MiB and tens of milliseconds
per guess, which together with the login rate limit makes guessing slow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

N, R, P = 2**15, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_LENGTH = 10
MAX_LENGTH = 1024
_MAXMEM = 128 * 1024 * 1024


class PasswordError(ValueError):
    """A password that may not be set; the message says why."""


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"password: expected at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"password: expected at most {MAX_LENGTH} characters")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=KEY_BYTES
    )


def hash_password(password: str) -> str:
    check_strength(password)
    salt = os.urandom(SALT_BYTES)
    return f"scrypt$n={N},r={R},p={P}${_b64(salt)}${_b64(_derive(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches; a malformed stored value never matches."""
    try:
        scheme, params, salt, digest = stored.split("$")
        values = dict(item.split("=") for item in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        if scheme != "scrypt" or len(password) > MAX_LENGTH:
            return False
        derived = _derive(password, _unb64(salt), n, r, p)
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(derived, _unb64(digest))


_DUMMY = f"scrypt$n={N},r={R},p={P}${_b64(b'0' * SALT_BYTES)}${_b64(b'0' * KEY_BYTES)}"


def burn_time(password: str) -> None:
    """The work of one verification, for a name that does not exist (no user enumeration
    by timing)."""
    verify_password(password, _DUMMY)
