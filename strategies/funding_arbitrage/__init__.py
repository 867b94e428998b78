"""Cross-venue funding-rate arbitrage: long where funding is paid, short where it is received."""
