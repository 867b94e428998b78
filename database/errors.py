"""Errors raised by the database package.

User-facing problems (a wrong URL, a missing master key, an unknown account)
derive from :class:`~core.errors.ConfigError` so every entry point
prints one line and exits 2. Tampered ciphertext is *not* a user mistake: it
means someone or something altered stored secrets, so it is a plain
:class:`~core.errors.TradingError` that must never be retried or
papered over.

No message here ever contains a secret value, a key, or a password-bearing URL.
"""

from __future__ import annotations

from core.errors import ConfigError, TradingError


class DatabaseConfigError(ConfigError):
    """The database URL is unusable, the server unreachable, or the schema missing/outdated."""


class DatabaseNotInitialised(DatabaseConfigError):
    """The database has no perpfleet schema (or an outdated one)."""


class MasterKeyError(ConfigError):
    """The master key is missing, malformed, insecurely stored or not the database's key."""


class WrongMasterKey(MasterKeyError):
    """The active master key is not the one the stored secrets were encrypted with."""


class SecretTampered(TradingError):
    """Stored ciphertext failed authentication under the right key: it was altered or moved."""


class NotFound(ConfigError):
    """A named account, proxy or credential set does not exist."""


class AlreadyExists(ConfigError):
    """Creating something that already exists (same name, same account/venue/sub-account)."""


class InvalidInput(ConfigError):
    """A value given by the user is malformed (bad URL, unknown field, missing required field)."""
