"""The funding-rate service: collects every venue's funding in the background, keeps its history
and answers bots, Telegram and people over a read-only HTTP API (issue 17)."""
