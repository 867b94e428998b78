"""Bearer tokens for the per-bot control API.

Why this module exists, and why it is this small:

* Only a **hash** of a bot's token is stored (DESIGN §7: "hashed in the DB"), so reading the
  database or the supervisord program files is not enough to drive a bot. SHA-256 without a salt
  is the right tool here: the token is 32 random bytes, not a password, so there is nothing for a
  slow KDF to protect against, and the bot checks it on every request.
* Checking is constant-time (:func:`hmac.compare_digest` over the digests), so response timing
  says nothing about how much of a guess was right.
* Every plaintext token this process creates, hashes or successfully verifies is registered with
  :func:`core.redaction.register_secret`, so it is scrubbed from every log line, error
  text and traceback. Tokens that fail verification are *not* registered: they are not secrets
  of ours, and registering whatever a client sends would let anyone grow the scrub pattern
  without bound.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from core.redaction import register_secret

TOKEN_HASH_PREFIX = "sha256:"  # noqa: S105 - a hash algorithm tag, not a password
_TOKEN_HASH_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")


def new_token() -> str:
    """A fresh random bearer token (URL-safe, 256 bits), registered for scrubbing."""
    token = secrets.token_urlsafe(32)
    register_secret(token)
    return token


def hash_token(token: str) -> str:
    """The stored form of ``token``: ``"sha256:" + hex digest``. Registers ``token``."""
    if not token:
        raise ValueError("a control API token cannot be empty")
    register_secret(token)
    return TOKEN_HASH_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_token_hash(value: str) -> bool:
    """True when ``value`` has the shape :func:`hash_token` produces."""
    return _TOKEN_HASH_PATTERN.fullmatch(value) is not None


def verify_token(presented: str, token_hash: str) -> bool:
    """True when ``presented`` is the token whose hash is ``token_hash``.

    Constant-time in the content of ``presented``; a malformed ``token_hash`` never matches.
    """
    if not presented or not is_token_hash(token_hash):
        return False
    try:
        digest = hashlib.sha256(presented.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # lone surrogates: cannot be a token we issued
        return False
    expected = token_hash.removeprefix(TOKEN_HASH_PREFIX)
    if not hmac.compare_digest(digest.encode("ascii"), expected.encode("ascii")):
        return False
    register_secret(presented)
    return True
