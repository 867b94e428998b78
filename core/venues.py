"""The catalogue of venues perpfleet knows, and the credentials each one needs.

This is reference data shared by config validation (is ``exchanges.<venue>`` a
venue we support?), the database (venue rows, which credential fields an
account needs) and the admin CLI (which secrets to prompt for). Venue clients
arrive with their own issues; a venue listed here is one the project commits
to support.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CredentialField:
    """One piece of an account's credentials on a venue."""

    name: str
    description: str
    secret: bool = True
    required: bool = True
    format: str = "token"
    """How a value must look; checked by ``accounts add`` (database/credential_formats.py)
    before anything is stored, so a pasted key of the wrong kind fails there, not at trading."""


@dataclass(frozen=True)
class Venue:
    """A venue: its canonical name, how it is shown, and what it needs to trade."""

    name: str
    display_name: str
    kind: str  # "paper", "cex" or "dex"
    default_funding_interval_hours: int
    credential_fields: tuple[CredentialField, ...]
    ccxt_id: str | None = None
    """Served by the generic ccxt client (exchange_clients/ccxt_venue) as this ccxt exchange."""

    @property
    def needs_credentials(self) -> bool:
        """Every real venue trades an account; Aster's fields are each optional (one of two
        schemes), so "has a required field" would wrongly call it account-free."""
        return self.kind != "paper"


_API_KEY = CredentialField("api_key", "API key")
_API_SECRET = CredentialField("api_secret", "API secret")

VENUES: dict[str, Venue] = {
    venue.name: venue
    for venue in (
        # Simulated venues: the same synthetic market seen through different fee and
        # funding profiles, so funding arbitrage can be paper-traded between two of them.
        Venue("paper", "Paper (simulated)", "paper", 1, ()),
        Venue("paper_a", "Paper A (simulated, hourly funding)", "paper", 1, ()),
        Venue("paper_b", "Paper B (simulated, 8-hourly funding)", "paper", 8, ()),
        Venue(
            "hyperliquid",
            "Hyperliquid",
            "dex",
            1,
            (
                CredentialField(
                    "private_key",
                    "private key of the wallet or API (agent) wallet",
                    format="evm_private_key",
                ),
                CredentialField(
                    "account_address",
                    "main account address (needed when signing with an API wallet)",
                    secret=False,
                    required=False,
                    format="evm_address",
                ),
                CredentialField(
                    "vault_address",
                    "vault or sub-account address",
                    secret=False,
                    required=False,
                    format="evm_address",
                ),
            ),
        ),
        Venue(
            "aster",
            "Aster",
            "dex",
            8,
            (
                CredentialField("api_key", "API key (HMAC scheme)", required=False),
                CredentialField("api_secret", "API secret (HMAC scheme)", required=False),
                CredentialField(
                    "user",
                    "main wallet address (v3 API-wallet scheme)",
                    secret=False,
                    required=False,
                    format="evm_address",
                ),
                CredentialField(
                    "signer",
                    "API wallet address (v3 scheme)",
                    secret=False,
                    required=False,
                    format="evm_address",
                ),
                CredentialField(
                    "signer_private_key",
                    "API wallet private key (v3 scheme)",
                    required=False,
                    format="evm_private_key",
                ),
            ),
        ),
        Venue(
            "binance",
            "Binance USD-M Futures",
            "cex",
            8,
            (
                _API_KEY,
                _API_SECRET,
                CredentialField(
                    "sub_account_email",
                    "sub-account email",
                    secret=False,
                    required=False,
                    format="email",
                ),
            ),
        ),
        Venue(
            "backpack",
            "Backpack",
            "cex",
            1,
            (
                CredentialField(
                    "api_key", "API key (base64 ed25519 public key)", format="ed25519_base64"
                ),
                CredentialField(
                    "api_secret", "API secret (base64 ed25519 private key)", format="ed25519_base64"
                ),
            ),
        ),
        Venue(
            "lighter",
            "Lighter",
            "dex",
            1,
            (
                CredentialField(
                    "api_key_private_key", "API key private key", format="lighter_private_key"
                ),
                CredentialField(
                    "account_index", "account index", secret=False, format="non_negative_int"
                ),
                CredentialField(
                    "api_key_index", "API key index", secret=False, format="api_key_index"
                ),
            ),
        ),
        Venue(
            "paradex",
            "Paradex",
            "dex",
            8,
            (
                CredentialField(
                    "l1_private_key",
                    "Ethereum private key the Paradex account is onboarded with",
                    format="evm_private_key",
                ),
            ),
        ),
        Venue(
            "grvt",
            "GRVT",
            "dex",
            8,
            (
                CredentialField("api_key", "API key", format="token"),
                CredentialField(
                    "private_key",
                    "private key registered for the API key",
                    format="evm_private_key",
                ),
                CredentialField(
                    "sub_account_id",
                    "trading sub-account id",
                    secret=False,
                    format="non_negative_int",
                ),
            ),
        ),
        Venue(
            "edgex",
            "EdgeX",
            "dex",
            4,
            (
                CredentialField(
                    "account_id", "EdgeX account id", secret=False, format="non_negative_int"
                ),
                CredentialField("api_key", "API key", format="token"),
                CredentialField("api_secret", "API secret", format="token"),
                CredentialField("api_passphrase", "API passphrase", format="token"),
                CredentialField(
                    "trading_private_key",
                    "trading (L2) private key that signs orders",
                    format="evm_private_key",
                ),
            ),
        ),
        # Venues without a native client, reached through ccxt (exchange_clients/ccxt_venue).
        Venue(
            "ccxt_binanceusdm",
            "Binance USD-M via ccxt",
            "cex",
            8,
            (_API_KEY, _API_SECRET),
            ccxt_id="binanceusdm",
        ),
        Venue(
            "ccxt_bybit",
            "Bybit USDT perpetuals via ccxt",
            "cex",
            8,
            (_API_KEY, _API_SECRET),
            ccxt_id="bybit",
        ),
        Venue(
            "ccxt_okx",
            "OKX USDT swaps via ccxt",
            "cex",
            8,
            (_API_KEY, _API_SECRET, CredentialField("password", "API passphrase")),
            ccxt_id="okx",
        ),
    )
}


def known_venue_names() -> list[str]:
    return sorted(VENUES)


def get_venue(name: str) -> Venue:
    """Look a venue up by name; unknown names raise ``ConfigError`` listing the known ones."""
    from core.errors import ConfigError
    from core.suggestions import did_you_mean

    try:
        return VENUES[name]
    except KeyError:
        hint = did_you_mean(name, known_venue_names())
        raise ConfigError(
            f"unknown venue {name!r}{hint}: expected one of {', '.join(known_venue_names())}"
        ) from None
