"""Talking to venues: rate limits, retries with backoff, reconnecting WebSockets."""
