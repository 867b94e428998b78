"""perpfleet's shipped test kit: faithful fakes of every venue's wire protocol (REST +
WebSocket, signatures verified) and of Telegram's Bot API.

Used by the test suite and by ``bench/`` alike, so it is a package of its own rather than part
of ``tests/`` (which is not shipped). It sits beside the applications at the top of the layers:
it may import anything below it, and nothing in the product imports it.
"""
