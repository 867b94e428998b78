"""Placing orders safely: executor modes, pricing, order tracking, journal, atomic multi-leg."""
