"""Benchmarks (``make bench``): medians and ratios, with the machine noted."""
