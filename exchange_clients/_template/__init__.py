"""The shape of a native venue: copy this folder to ``exchange_clients/<venue>/`` and fill it in.

Not a venue: nothing registers it and the catalogue does not list it. It is type-checked with
the rest of the tree, so it keeps up with the base it is written against
(:class:`~exchange_clients.native.base.NativeVenueClient`). One module per role, the same
names in every venue package: ``client`` (the contract, on the native base), ``rest`` (the REST
session and request signing calls), ``websocket`` (the streams, resubscribing after a
reconnect), ``wire`` (wire format <-> our types, error answers -> our errors), ``signing``,
``funding_adapter`` and ``ids`` (our client order ids <-> the venue's). docs/adding_a_venue.md
lists every other place a new venue touches.
"""
