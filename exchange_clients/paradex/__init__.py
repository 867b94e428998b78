"""Paradex (Starknet perpetuals): native client, Stark signing, JSON-RPC WebSocket."""
