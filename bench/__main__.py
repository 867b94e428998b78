"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from bench import atomic, config_and_secrets, market_data, order_book, paper_venue

config_and_secrets.main()
market_data.main()
paper_venue.main()
order_book.main()
atomic.main()
