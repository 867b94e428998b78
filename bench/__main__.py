"""Run every benchmark: ``python -m bench`` (``make bench``)."""

from bench import (
    atomic,
    bot_footprint,
    config_and_secrets,
    fleet,
    market_data,
    order_book,
    paper_venue,
    tick_to_order,
    venues,
)

config_and_secrets.main()
market_data.main()
paper_venue.main()
order_book.main()
venues.main()
atomic.main()
tick_to_order.main()
bot_footprint.main()
fleet.main()
