"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from bench import config_and_secrets

config_and_secrets.main()
