"""Keeping secrets out of every line perpfleet writes.

Two nets, because either alone leaks:

* **by key name** — a value stored under a key that looks secret (``api_key``,
  ``private_key``, ``password``, ``token`` ...) is replaced before rendering;
* **by value** — every credential decrypted at run time is registered here, and
  every rendered log line, exception text and CLI error is scrubbed of it,
  wherever it appears (inside a URL, a traceback, a repr of a dict ...).

Credentials travel inside :class:`Secret`, whose ``repr``/``str`` never show the
value, so an accidental ``log.info("creds", creds=creds)`` prints ``***``.
"""

from __future__ import annotations

import hmac
import re
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

MASK = "***"

# Key names whose values are secret, matched anywhere in the key (case-insensitive).
SECRET_KEY_PATTERN = re.compile(
    r"secret|private[_-]?key|passw(?:or)?d|passphrase|token|api[_-]?key|mnemonic|seed_phrase"
    r"|authorization|signature|credential|master[_-]?key|cookie",
    re.IGNORECASE,
)

# Values shorter than this are not scrubbed by value: masking every "1" or "ab" in
# every log line would make logs unreadable and protects nothing real.
MIN_SCRUB_LENGTH = 6


def is_secret_key(key: object) -> bool:
    """True when a mapping key's name says its value is a secret."""
    return isinstance(key, str) and SECRET_KEY_PATTERN.search(key) is not None


class _SecretValues:
    """Thread-safe set of registered secret values with one compiled scrub pattern."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        variants = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
        variants = {v for v in variants if len(v) >= MIN_SCRUB_LENGTH}
        with self._lock:
            if variants <= self._values:
                return
            self._values |= variants
            self._pattern = re.compile(_trie_pattern(self._values))

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(MASK, text)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None


def _trie_pattern(values: set[str]) -> str:
    """A regex matching any of ``values``, longest first, factored by common prefix.

    A flat ``a|b|c`` alternation tries every secret at every position of every
    log line; factoring prefixes makes most positions fail at the first
    character, which keeps scrubbing cheap with many registered secrets.
    """
    trie: dict[str, Any] = {}
    for value in values:
        node = trie
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + render(child) for char, child in node.items() if char]
        if "" in node:
            branches.append("")  # ending here is tried last, so longer matches win
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return render(trie)


_registry = _SecretValues()


def register_secret(value: str) -> None:
    """Scrub ``value`` from every log line and error text from now on."""
    if value:
        _registry.add(value)


def scrub(text: str) -> str:
    """Replace every registered secret value in ``text`` with ``***``."""
    return _registry.scrub(text)


def forget_all_secrets() -> None:
    """Drop every registered value. For tests that need a clean registry."""
    _registry.clear()


class Secret:
    """A credential value that never shows itself.

    Creating one registers the value for scrubbing. Use :meth:`reveal` only at
    the point of use (signing a request), never to build a message.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        register_secret(value)
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def redact(value: Any) -> Any:
    """Return ``value`` with secret-named keys masked and registered values scrubbed.

    Walks mappings, lists and tuples; leaves other objects alone except strings
    (scrubbed) and :class:`Secret` (masked).
    """
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: (MASK if is_secret_key(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value


def redact_event_dict(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask secret-named keys and scrub registered values."""
    return {
        key: (MASK if is_secret_key(key) and key != "event" else redact(value))
        for key, value in event_dict.items()
    }


def scrub_rendered(_logger: Any, _method: str, rendered: Any) -> Any:
    """structlog processor placed *after* the renderer: scrubs the final text.

    This is the net that catches what key-based redaction cannot see: secrets
    inside tracebacks, reprs of arbitrary objects, or third-party messages.
    """
    if isinstance(rendered, str):
        return scrub(rendered)
    if isinstance(rendered, bytes):
        return scrub(rendered.decode("utf-8", "replace")).encode("utf-8")
    return rendered


def scrub_exception_text(exc: BaseException) -> str:
    """The text of an exception, safe to show to a user."""
    return scrub(str(exc))
