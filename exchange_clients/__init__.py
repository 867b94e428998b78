"""Venue clients behind one contract (base.py), the shared L2 book, paper venue, market data."""
