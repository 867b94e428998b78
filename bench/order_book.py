"""How fast the L2 book applies depth deltas, next to bmoscon's C ``order-book`` and a SortedDict.

One seeded stream of L2 deltas over a ~2,000-level book (most changes near the touch, some
levels emptied, some new) is generated once in a compact form. Each book then applies the same
deltas as exact ``Decimal`` prices and sizes (the C book is fed Decimal keys, not floats):

- "pre-hashed" Decimals: one object per price, its hash already cached. This is the C
  book's best case (a dict store of a known key) and never happens on a live feed;
- "fresh" Decimals: a new object per delta, as parsing a WebSocket message produces, so a
  ``Decimal``-keyed book pays for hashing each price (~0.3 us) as it would in production;
- fresh Decimals with the best bid and ask read after every message. The C book keeps a
  plain dict and sorts all its keys on the first read after a write, so this is where its
  design costs most; it is timed on the first tenth of the stream only.

Then the wire path: Binance-style depth messages as JSON text, ``json.loads`` and
``apply_wire_update`` (string -> exact number parsing included), in price levels per second,
next to the C book fed ``Decimal(str)`` from the same parsed JSON, with and without a
text -> Decimal memo like the one our book keeps.

Every figure is the median of a few full runs, with the cyclic GC off as in ``timeit``; the
machine is shared, so compare ratios, not absolute numbers.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from order_book import OrderBook as CBook  # type: ignore[import-not-found]
from sortedcontainers import SortedDict  # type: ignore[import-untyped]

from bench.harness import machine, median_seconds, report
from exchange_clients.order_book import OrderBook

SEED = 20_240_601
DELTAS = 1_000_000
LEVELS_PER_SIDE = 1_000
MID_TICK = 640_000  # price = tick * 0.1, so the book sits around 64,000.0
MEAN_OFFSET = 25  # ticks from the mid: most changes are near the touch
MAX_OFFSET = 1_200
ROUNDS = 3
C_READ_PREFIX = 10  # the C book re-sorts every key on each read: time 1/10 of the stream

Compact = list[tuple[int, int]]  # (price tick, size in thousandths; 0 = remove)
CompactMessage = tuple[Compact, Compact]  # (bids, asks)
Levels = list[tuple[Decimal, Decimal]]
Message = tuple[Levels, Levels]


class Stream:
    """The seeded book and deltas, in ints; turned into Decimals or JSON per run."""

    def __init__(self) -> None:
        rng = random.Random(SEED)  # noqa: S311 - reproducible market data, not secrets
        mid = MID_TICK
        bids = {mid - offset for offset in range(1, MAX_OFFSET) if rng.random() < 0.85}
        asks = {mid + offset for offset in range(1, MAX_OFFSET) if rng.random() < 0.85}
        bids = set(sorted(bids)[-LEVELS_PER_SIDE:])
        asks = set(sorted(asks)[:LEVELS_PER_SIDE])
        self.snapshot: CompactMessage = (
            [(tick, rng.randint(1, 50_000)) for tick in sorted(bids, reverse=True)],
            [(tick, rng.randint(1, 50_000)) for tick in sorted(asks)],
        )
        self.messages: list[CompactMessage] = []
        self.kinds = {"changed": 0, "new": 0, "removed": 0}
        produced = 0
        while produced < DELTAS:
            message: CompactMessage = ([], [])
            for _ in range(rng.randint(1, 19)):
                if rng.random() < 0.005:  # the mid drifts; a level it lands on is traded away
                    mid += rng.choice((-1, 1))
                    for levels, book in ((message[0], bids), (message[1], asks)):
                        if mid in book:
                            book.discard(mid)
                            levels.append((mid, 0))
                            self.kinds["removed"] += 1
                is_ask = rng.random() < 0.5
                offset = min(1 + int(rng.expovariate(1 / MEAN_OFFSET)), MAX_OFFSET)
                tick = mid + offset if is_ask else mid - offset
                book = asks if is_ask else bids
                if tick in book and rng.random() < 0.15:
                    book.discard(tick)
                    size = 0
                    self.kinds["removed"] += 1
                else:
                    self.kinds["changed" if tick in book else "new"] += 1
                    book.add(tick)
                    size = rng.randint(1, 50_000)
                message[is_ask].append((tick, size))
            produced += len(message[0]) + len(message[1])
            self.messages.append(message)
        self.deltas = produced
        self.final_levels = len(bids) + len(asks)
        ticks = {tick for tick, _ in self._all_levels()}
        self._prices = {tick: Decimal(tick).scaleb(-1) for tick in ticks}
        self._sizes = [Decimal(units).scaleb(-3) for units in range(50_001)]

    def _all_levels(self) -> Iterable[tuple[int, int]]:
        yield from self.snapshot[0] + self.snapshot[1]
        for bids, asks in self.messages:
            yield from bids
            yield from asks

    def deltas_in(self, prefix: int) -> int:
        """Number of deltas in the first ``1/prefix`` of the messages."""
        messages = self.messages[: len(self.messages) // prefix]
        return sum(len(bids) + len(asks) for bids, asks in messages)

    def decimals(self, *, fresh: bool, prefix: int = 1) -> tuple[Message, list[Message]]:
        """Snapshot and messages as ``(Decimal, Decimal)`` levels; ``1/prefix`` of them."""
        prices, sizes = self._prices, self._sizes
        if not fresh:
            for price in prices.values():
                hash(price)  # cached in the object from now on

        def convert(levels: Compact) -> Levels:
            if fresh:  # copy_abs() makes a new object, whose hash is not computed yet
                return [(prices[tick].copy_abs(), sizes[units]) for tick, units in levels]
            return [(prices[tick], sizes[units]) for tick, units in levels]

        messages = self.messages[: len(self.messages) // prefix]
        snapshot = (convert(self.snapshot[0]), convert(self.snapshot[1]))
        return snapshot, [(convert(bids), convert(asks)) for bids, asks in messages]

    def wire(self) -> tuple[dict[str, Any], list[str]]:
        """A REST snapshot (parsed) and Binance-futures-style ``depthUpdate`` JSON texts."""

        def text(levels: Compact) -> list[list[str]]:
            return [
                [f"{tick // 10}.{tick % 10}", f"{units // 1000}.{units % 1000:03}"]
                for tick, units in levels
            ]

        snapshot = {
            "lastUpdateId": 0,
            "bids": text(self.snapshot[0]),
            "asks": text(self.snapshot[1]),
        }
        texts = []
        last = 0
        for bids, asks in self.messages:
            first = last + 1
            body = {"e": "depthUpdate", "s": "BTCUSDT", "U": first, "pu": last}
            last = first + len(bids) + len(asks) - 1
            texts.append(json.dumps(body | {"u": last, "b": text(bids), "a": text(asks)}))
        return snapshot, texts


# -- the three books: apply every message, optionally reading the touch after each ---------------


def run_ours(snapshot: Message, messages: list[Message], read: bool) -> None:
    book = OrderBook("BTC")
    book.apply_snapshot(*snapshot, sequence=0)
    last = 0
    for bids, asks in messages:
        first = last + 1
        last += len(bids) + len(asks)
        book.apply_update(bids, asks, first_sequence=first, last_sequence=last)
        if read:
            book.best_bid()
            book.best_ask()


def run_c(snapshot: Message, messages: list[Message], read: bool) -> None:
    book = CBook()
    bid_book, ask_book = book.bids, book.asks
    for price, size in snapshot[0]:
        bid_book[price] = size
    for price, size in snapshot[1]:
        ask_book[price] = size
    for bids, asks in messages:
        for side, levels in ((bid_book, bids), (ask_book, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:  # suppress() would cost a context manager per delete
                    try:  # noqa: SIM105
                        del side[price]
                    except KeyError:
                        pass
        if read:
            bid_book.index(0)
            ask_book.index(0)


def run_sorted_dict(snapshot: Message, messages: list[Message], read: bool) -> None:
    bid_book, ask_book = SortedDict(snapshot[0]), SortedDict(snapshot[1])
    for bids, asks in messages:
        for side, levels in ((bid_book, bids), (ask_book, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        if read:
            bid_book.peekitem(-1)
            ask_book.peekitem(0)


Runner = Callable[[Message, list[Message], bool], None]
BOOKS: list[tuple[str, Runner, str]] = [
    ("perpfleet OrderBook (int keys)", run_ours, "ours"),
    ("order-book 0.6 C OrderBook (Decimal keys)", run_c, "c"),
    ("sortedcontainers SortedDict (Decimal keys)", run_sorted_dict, "sd"),
]


def median_run_seconds(
    stream: Stream, run: Runner, *, fresh: bool, read: bool, prefix: int
) -> float:
    """Median seconds of ``ROUNDS`` runs; fresh Decimals are made anew (untimed) for each."""
    hashed = None if fresh else stream.decimals(fresh=False, prefix=prefix)
    samples = []
    for _ in range(ROUNDS):
        snapshot, messages = hashed or stream.decimals(fresh=True, prefix=prefix)
        start = time.perf_counter()
        run(snapshot, messages, read)
        samples.append(time.perf_counter() - start)
        del snapshot, messages
    return statistics.median(samples)


def compare_books(stream: Stream, *, fresh: bool, read: bool) -> float:
    """Report deltas per second of each book and return ours / the C book's.

    With ``read``, each book also returns its best bid and ask after every message, as a
    strategy or the paper venue would.
    """
    rates = {}
    for name, run, tag in BOOKS:
        prefix = C_READ_PREFIX if read and tag == "c" else 1
        deltas = stream.deltas_in(prefix)
        seconds = median_run_seconds(stream, run, fresh=fresh, read=read, prefix=prefix)
        rates[tag] = deltas / seconds
        note = f"{rates[tag] / 1e6:6.2f} M deltas/s"
        if prefix > 1:
            note += f"  (first 1/{prefix}: {deltas:,} deltas)"
        if tag == "sd":
            note += f"  x{rates['sd'] / rates['c']:.2f} the C book"
        report(name, seconds, note)
    ratio = rates["ours"] / rates["c"]
    sys.stdout.write(f"  {'-> ours / C book':<52} x{ratio:.2f}\n")
    return ratio


def wire_throughput(stream: Stream) -> tuple[float, float]:
    """Report levels per second from Binance-style JSON text to book.

    Returns ours with ``json.loads`` included and ours from the parsed JSON.
    """
    snapshot, texts = stream.wire()
    parsed = [json.loads(text) for text in texts]
    levels = sum(len(message["b"]) + len(message["a"]) for message in parsed)

    def ours(messages: Iterable[dict[str, Any]]) -> None:
        book = OrderBook("BTC")
        book.apply_wire_snapshot(snapshot["bids"], snapshot["asks"], snapshot["lastUpdateId"])
        for m in messages:
            book.apply_wire_update(
                m["b"],
                m["a"],
                first_sequence=m["U"],
                last_sequence=m["u"],
                previous_sequence=m["pu"],
            )

    def c_book(messages: Iterable[dict[str, Any]], *, remember: bool) -> None:
        # With `remember`, a price text seen before maps to the Decimal made for it then, whose
        # hash is cached: the same trick our wire path uses, to show what it alone is worth.
        known: dict[str, Decimal] = {}
        book = CBook()
        bid_book, ask_book = book.bids, book.asks
        for side, rows in ((bid_book, snapshot["bids"]), (ask_book, snapshot["asks"])):
            for price, size in rows:
                side[Decimal(price)] = Decimal(size)
        for m in messages:
            for side, rows in ((bid_book, m["b"]), (ask_book, m["a"])):
                for text, size in rows:
                    if not remember:
                        price = Decimal(text)
                    elif (price := known.get(text)) is None:
                        price = known[text] = Decimal(text)
                    quantity = Decimal(size)
                    if quantity:
                        side[price] = quantity
                    else:
                        try:  # noqa: SIM105 - as in run_c
                            del side[price]
                        except KeyError:
                            pass

    with_loads = "ours: json.loads + apply_wire_update"
    from_parsed = "ours: apply_wire_update on parsed JSON"
    rates = {}
    for name, work in (
        ("json.loads alone (no book)", lambda: deque(map(json.loads, texts), maxlen=0)),
        (with_loads, lambda: ours(map(json.loads, texts))),
        (from_parsed, lambda: ours(parsed)),
        ("C book on parsed JSON, Decimal(str) per number", lambda: c_book(parsed, remember=False)),
        (
            "C book on parsed JSON, Decimals remembered by text",
            lambda: c_book(parsed, remember=True),
        ),
    ):
        seconds = median_seconds(work, rounds=ROUNDS)
        rates[name] = levels / seconds
        report(name, seconds, f"{rates[name] / 1e6:6.2f} M levels/s")
    return rates[with_loads], rates[from_parsed]


def main() -> None:
    # The cyclic GC is off while measuring, as in timeit: with a million live tuples in the
    # stream, its full passes would cost more than the books and land on whichever runs then.
    gc.disable()
    try:
        _measure()
    finally:
        gc.enable()


def _measure() -> None:
    sys.stdout.write(f"order book, median of {ROUNDS} runs ({machine()})\n")
    started = time.perf_counter()
    stream = Stream()
    share = {kind: f"{count / stream.deltas:.0%}" for kind, count in stream.kinds.items()}
    sys.stdout.write(
        f"  stream: {stream.deltas:,} deltas in {len(stream.messages):,} messages "
        f"({share['changed']} size changes, {share['new']} new levels, {share['removed']} "
        f"removals);\n  {LEVELS_PER_SIDE * 2:,} levels at the start, {stream.final_levels:,} at "
        "the end. All books get the same exact Decimals;\n"
        "  ours also checks sequence numbers and refuses negative sizes, the others do neither.\n"
    )
    sys.stdout.write("  apply deltas, pre-hashed Decimals (the C book's best case):\n")
    hashed = compare_books(stream, fresh=False, read=False)
    sys.stdout.write("  apply deltas, fresh Decimals (as parsed from a live feed):\n")
    fresh = compare_books(stream, fresh=True, read=False)
    sys.stdout.write("  apply deltas + best bid/ask after every message, fresh Decimals:\n")
    compare_books(stream, fresh=True, read=True)
    sys.stdout.write("  wire JSON -> book, string parsing included:\n")
    with_loads, parsed = wire_throughput(stream)

    def verdict(value: float, target: float) -> str:
        return "met" if value >= target else "MISSED"

    sys.stdout.write(
        f"  target ours/C >= 0.5: fresh Decimals x{fresh:.2f} {verdict(fresh, 0.5)}, "
        f"pre-hashed x{hashed:.2f} {verdict(hashed, 0.5)}\n"
        f"  target >= 1M levels/s: from parsed JSON {parsed / 1e6:.2f}M {verdict(parsed, 1e6)}, "
        f"incl. json.loads {with_loads / 1e6:.2f}M {verdict(with_loads, 1e6)}\n"
        f"  ({time.perf_counter() - started:.0f} s in all)\n"
    )


if __name__ == "__main__":
    main()
