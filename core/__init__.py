"""The ground floor: errors, secret redaction, logging setup, clock, paths, venue catalogue.

Imports nothing else of perpfleet's (a layers contract in ``make lint`` enforces it), so every
other package - networking and the database included - can build on it.
"""
