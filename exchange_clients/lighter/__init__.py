"""Lighter (zkLighter) perpetuals: our async client around the SDK's native signer."""
