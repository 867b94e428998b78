"""Polymarket's public market data (Gamma markets, CLOB prices): read-only, no account."""
