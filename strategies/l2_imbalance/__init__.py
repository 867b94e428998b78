"""Order-book imbalance scalper: enter on a lopsided top of book, leave within a minute."""
