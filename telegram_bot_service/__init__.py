"""Telegram control of the fleet: allowlisted users, roles, commands, notifications."""
