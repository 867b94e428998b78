"""Aster futures (https://fapi.asterdex.com), Binance-compatible, thin over the shared base.

Two auth schemes, chosen by the account's credentials (core/venues.py):

* ``user`` + ``signer`` + ``signer_private_key``: the v3 API-wallet scheme, every endpoint
  under ``/fapi/v3/`` (see :mod:`.signing`);
* ``api_key`` + ``api_secret``: HMAC, the v1 endpoints (``/fapi/v1``, ``/fapi/v2``), exactly
  Binance's.

Testnet: https://fapi.asterdex-testnet.com, wss://fstream.asterdex-testnet.com. Streams are
Binance's protocol word for word, and funding is ``premiumIndex`` + ``fundingInfo`` ("Get Funding
Rate Config") with a default interval of 8 h, so this package holds only Aster's own parts: its
hosts, the v3 path set and the API-wallet signer (:mod:`.signing`).

Where Aster differs from today's Binance: stop orders are still ``POST order`` with
``type=STOP_MARKET`` and ``stopPrice`` (Binance's pre-2025 API; Aster has no Algo Service), and
it documents no open-interest endpoint, so ``market_stats`` reports open interest as ``None``.
Fees are the account's tier from ``commissionRate`` (v1 and v3, "User Commission Rate").
"""

from __future__ import annotations

from decimal import Decimal

from core.errors import AuthenticationFailed
from exchange_clients.aster.signing import ApiWalletSigner
from exchange_clients.binance_style.client import (
    ALGO_PATH_NAMES,
    BINANCE_PATHS,
    BinanceStyleClient,
    VenueConfig,
)
from exchange_clients.binance_style.signing import RequestSigner
from exchange_clients.factory import register_client

NOT_ON_ASTER = (*ALGO_PATH_NAMES, "open_interest")
ASTER_V1_PATHS = {name: path for name, path in BINANCE_PATHS.items() if name not in NOT_ON_ASTER}
"""Binance's paths less the Algo Service and ``openInterest``, which Aster does not document."""
V3_PATHS = {name: "/fapi/v3/" + path.split("/", 3)[3] for name, path in ASTER_V1_PATHS.items()}
"""Aster v3 paths: the same endpoint names, all under ``/fapi/v3/`` (``ticker/24hr`` too)."""

ASTER_HMAC = VenueConfig(
    rest_url="https://fapi.asterdex.com",
    ws_url="wss://fstream.asterdex.com",
    testnet_rest_url="https://fapi.asterdex-testnet.com",
    testnet_ws_url="wss://fstream.asterdex-testnet.com",
    paths=ASTER_V1_PATHS,
    default_funding_interval_hours=Decimal(8),
    trigger_dialect="order",
)
ASTER_V3 = VenueConfig(
    rest_url=ASTER_HMAC.rest_url,
    ws_url=ASTER_HMAC.ws_url,
    testnet_rest_url=ASTER_HMAC.testnet_rest_url,
    testnet_ws_url=ASTER_HMAC.testnet_ws_url,
    paths=V3_PATHS,
    default_funding_interval_hours=ASTER_HMAC.default_funding_interval_hours,
    trigger_dialect="order",
)
V3_FIELDS = ("user", "signer", "signer_private_key")


@register_client("aster")
class AsterClient(BinanceStyleClient):
    """One Aster futures account (one-way position mode)."""

    venue = "aster"
    config = ASTER_HMAC

    @property
    def uses_api_wallet(self) -> bool:
        return any(
            name in self.settings.public or name in self.settings.secrets for name in V3_FIELDS
        )

    def _venue_config(self) -> VenueConfig:
        return ASTER_V3 if self.uses_api_wallet else ASTER_HMAC

    def _make_signer(self) -> RequestSigner | None:
        if not self.uses_api_wallet:
            return super()._make_signer()
        public, secrets = self.settings.public, self.settings.secrets
        user, signer = public.get("user"), public.get("signer")
        key = secrets.get("signer_private_key")
        if user is None or signer is None or key is None:
            raise AuthenticationFailed(
                "the v3 API-wallet scheme needs user, signer and signer_private_key",
                venue=self.name,
            )
        return ApiWalletSigner(user, signer, key)
