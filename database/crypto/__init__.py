"""Encryption of secrets at rest: master key handling, sealed blobs, key rotation."""
