"""The shared base of Binance-style USD-M futures venues (Binance, Aster): REST signing and
error mapping, exchangeInfo -> markets, the local depth book procedure, the user-data stream."""

from exchange_clients.binance_style.client import BinanceStyleClient, VenueConfig

__all__ = ["BinanceStyleClient", "VenueConfig"]
