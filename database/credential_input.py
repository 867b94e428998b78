"""Gathering an account's credentials from the operator for ``accounts add``.

Non-secret fields come from ``--set field=value``; secret fields never come
from the command line (shell history, ``ps``) but from a hidden prompt or, with
``--from-env``, from ``PERPFLEET_<VENUE>_<FIELD>``. Every secret is wrapped in
:class:`~core.redaction.Secret` the moment it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from core.redaction import Secret
from core.venues import CredentialField, Venue
from database.credential_formats import check_value
from database.errors import InvalidInput

Prompt = Callable[[str], str]


def env_var_name(venue: str, field: str) -> str:
    """``PERPFLEET_BINANCE_API_SECRET`` for binance/api_secret."""
    return f"PERPFLEET_{venue}_{field}".upper()


def collect_credentials(
    venue: Venue,
    *,
    assignments: Sequence[str],
    from_env: bool,
    environ: Mapping[str, str],
    prompt: Prompt,
) -> tuple[dict[str, str], dict[str, Secret]]:
    """``(public, secrets)`` for ``venue`` from ``--set`` values, the environment or prompts.

    Missing or malformed public fields are reported before any prompt, so the operator does
    not type secrets for an entry that cannot be stored; every value is checked against its
    field's format (:mod:`database.credential_formats`) and kept in its normal form.
    """
    public = _checked_public(venue, _parse_assignments(venue, assignments))
    if not from_env:
        _require_public_fields(venue, public)

    secrets: dict[str, Secret] = {}
    for field in venue.credential_fields:
        if field.name in public:
            continue
        if from_env:
            raw = environ.get(env_var_name(venue.name, field.name))
        elif field.secret:
            raw = _ask(prompt, venue, field)
        else:
            raw = None
        value = (raw or "").strip()
        if not value:
            if field.required:
                raise InvalidInput(_missing(venue, field, from_env=from_env))
            continue
        checked = check_value(venue.name, field.name, field.format, value)
        if field.secret:
            secrets[field.name] = Secret(checked)
        else:
            public[field.name] = checked
    return public, secrets


def _checked_public(venue: Venue, public: Mapping[str, str]) -> dict[str, str]:
    """Public fields in their normal form (a checksummed address), each checked for format."""
    formats = {field.name: field.format for field in venue.credential_fields}
    return {
        name: check_value(venue.name, name, formats[name], value) if value else value
        for name, value in public.items()
    }


def _parse_assignments(venue: Venue, assignments: Sequence[str]) -> dict[str, str]:
    fields = {field.name: field for field in venue.credential_fields}
    public: dict[str, str] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidInput("--set expects FIELD=VALUE")
        field = fields.get(name)
        if field is None:
            allowed = ", ".join(f.name for f in venue.credential_fields if not f.secret) or "none"
            raise InvalidInput(
                f"{venue.name} has no non-secret credential field {name!r}: expected {allowed}"
            )
        if field.secret:
            raise InvalidInput(
                f"{venue.name} field {name!r} is secret and cannot be given on the command line; "
                f"it is prompted for, or read from {env_var_name(venue.name, name)} with --from-env"
            )
        public[name] = value.strip()
    return public


def _require_public_fields(venue: Venue, public: Mapping[str, str]) -> None:
    for field in venue.credential_fields:
        if field.required and not field.secret and not public.get(field.name):
            raise InvalidInput(_missing(venue, field, from_env=False))


def _ask(prompt: Prompt, venue: Venue, field: CredentialField) -> str:
    optional = "" if field.required else ", optional: Enter to skip"
    try:
        return prompt(f"{venue.display_name} {field.description} ({field.name}{optional}): ")
    except EOFError:
        raise InvalidInput(
            f"no input for {venue.name} field {field.name!r}: run in a terminal or use --from-env"
        ) from None


def _missing(venue: Venue, field: CredentialField, *, from_env: bool) -> str:
    if from_env:
        how = f"set {env_var_name(venue.name, field.name)}"
    elif field.secret:
        how = "enter it at the prompt"
    else:
        how = f"pass --set {field.name}=VALUE"
    return f"missing required {venue.name} field {field.name!r} ({field.description}): {how}"
