"""Event fan-out: every subscriber gets every event from the moment it subscribed."""

from __future__ import annotations

import asyncio

from exchange_clients.streams import EventHub


async def test_events_published_before_the_first_await_are_delivered() -> None:
    hub: EventHub[int] = EventHub()
    first = hub.subscribe()
    hub.publish(1)
    second = hub.subscribe()
    hub.publish(2)
    assert [await anext(first), await anext(first)] == [1, 2]
    assert await anext(second) == 2
    assert hub.subscriber_count == 2


async def test_closed_subscription_drains_then_stops() -> None:
    hub: EventHub[str] = EventHub()
    async with hub.subscribe() as subscription:
        hub.publish("a")
    hub.publish("b")
    assert [event async for event in subscription] == ["a"]
    assert hub.subscriber_count == 0


async def test_consumer_waits_for_the_next_event() -> None:
    hub: EventHub[int] = EventHub()
    subscription = hub.subscribe()
    waiter = asyncio.create_task(anext(subscription))
    await asyncio.sleep(0)
    assert not waiter.done()
    hub.publish(7)
    assert await waiter == 7
