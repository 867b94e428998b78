"""One bot process: build clients and strategy from config, run, shut down cleanly."""
