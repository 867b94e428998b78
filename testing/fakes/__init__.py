"""Fake external services (here: the Telegram Bot API) that real clients talk to in tests."""
