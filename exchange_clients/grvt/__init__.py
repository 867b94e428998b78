"""GRVT (perpetuals on GRVT's ZK chain): native client, EIP-712 order signing, API-key sessions."""
