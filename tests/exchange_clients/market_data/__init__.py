"""Tests of the synthetic market, its feed, and feed recording/replay."""
