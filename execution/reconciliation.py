"""Reconciliation against the venue, not only the journal (start-up and every reconnect).

:func:`execution.journal.reconcile` answers "what became of the orders we sent"; it cannot see
what was never sent through us: an order placed by hand on the venue, a position closed or
grown while the bot was down (by hand, by another program, by a liquidation). This module
compares the venue's own view - the account's open orders and positions - with what the journal
explains, the way nautilus_trader reconciles a venue's mass status report, and a policy decides
(``reconciliation.policy`` of the config, per venue):

* ``refuse`` - nothing is touched; at start-up the bot does not start, after a reconnect the
  runtime stops entries (default for real venues);
* ``adopt`` - the venue is the truth: an unexplained open order is journaled (purpose
  ``adopted``) and tracked like the bot's own from then on, an unexplained position change is
  journaled as a filled ``external`` order, so both are explained next time (default for paper
  venues);
* ``cancel`` - unexplained orders are cancelled on the venue; the unexplained part of a position
  is journaled as ``external`` and then closed with a reduce-only market order through the
  executor (journaled like every order). A position *smaller* than the journal explains (closed
  outside the bot) cannot be undone by a reduce-only order: that part is adopted.

What the journal explains, per venue and database account (an account may be shared by bots of
the fleet, and the venue reports the account, not the bot):

* an open order, when a journaled order of that account carries its client order id or its
  venue order id (whatever status the journal gave it: the journal knows the order is ours);
* a position, up to the signed sum of the filled sizes of that account's journaled orders on
  that symbol.

After a reconnect the reads race with trading (a fill the stream has not delivered yet, a
write-behind not yet flushed): a first finding is looked at again after the trackers flushed
and ``settle_seconds`` passed, and only what is still there, unchanged, counts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import TradingError
from database.models import Fill as FillRow
from database.models import Order as OrderRow
from database.types import utcnow
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import Order, OrderStatus, OrderType, Position, Side
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode, ExecutionRequest, OrderExecutor
from execution.order_tracker import OrderTracker
from trading_config.schema import ReconciliationPolicy

log = structlog.get_logger(__name__)

ADOPTED = "adopted"
"""Purpose of an open order found on the venue and adopted into the journal."""
EXTERNAL = "external"
"""Purpose of a filled order standing for a position change made outside the bot."""
FLATTEN = "reconcile_flatten"
"""Purpose of the reduce-only order that closes an unexplained position part (``cancel``)."""
SETTLE_SECONDS = 2.0
"""How long a finding after a reconnect must persist to count (fills in flight settle)."""
ZERO = Decimal(0)


class UnexplainedVenueState(TradingError):
    """The venue holds orders or positions the journal does not explain, and the policy is
    ``refuse``; the message names each venue/symbol and what differs, on one line."""


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


@dataclass(frozen=True)
class UnexplainedOrder:
    """An open order on the venue that no journaled order of the account accounts for."""

    venue: str
    order: Order
    ours: bool
    """Its client order id carries this bot's prefix (ours, but the journal lost it)."""

    @property
    def key(self) -> tuple[str, str]:
        return self.venue, self.order.venue_order_id or self.order.client_order_id

    def describe(self) -> str:
        order = self.order
        price = f" @ {_amount(order.price)}" if order.price is not None else ""
        who = (
            "it carries this bot's client id prefix but the journal does not know it"
            if self.ours
            else "not placed by this bot (by hand or by another program)"
        )
        return (
            f"{self.venue}:{order.symbol}: open order {order.client_order_id or '-'} "
            f"(venue id {order.venue_order_id}) {order.side} {_amount(order.remaining_size)}"
            f"{price} is not in the journal: {who}"
        )


@dataclass(frozen=True)
class UnexplainedPosition:
    """A position whose size on the venue differs from what the journal's fills add up to."""

    venue: str
    symbol: str
    venue_size: Decimal
    explained_size: Decimal
    price: Decimal | None
    """The venue's entry price (what an adoption is journaled at), if it reported one."""

    @property
    def key(self) -> tuple[str, str]:
        return self.venue, self.symbol

    @property
    def difference(self) -> Decimal:
        return self.venue_size - self.explained_size

    def describe(self) -> str:
        return (
            f"{self.venue}:{self.symbol}: position {_amount(self.venue_size)} on the venue, the "
            f"journal explains {_amount(self.explained_size)} "
            f"(difference {_amount(self.difference)})"
        )


@dataclass
class Findings:
    """What the venues hold that the journal does not explain."""

    orders: list[UnexplainedOrder] = field(default_factory=list)
    positions: list[UnexplainedPosition] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.orders or self.positions)

    def lines(self) -> list[str]:
        return [o.describe() for o in self.orders] + [p.describe() for p in self.positions]

    def of(self, venue: str) -> Findings:
        return Findings(
            [o for o in self.orders if o.venue == venue],
            [p for p in self.positions if p.venue == venue],
        )

    def persisting(self, earlier: Findings) -> Findings:
        """What is in both ``earlier`` and this later look, unchanged (transients dropped)."""
        orders = {o.key for o in earlier.orders}
        positions = {(p.key, p.venue_size, p.explained_size) for p in earlier.positions}
        return Findings(
            [o for o in self.orders if o.key in orders],
            [p for p in self.positions if (p.key, p.venue_size, p.explained_size) in positions],
        )


@dataclass
class ReconciliationOutcome:
    """What a reconciliation found and did; ``refused`` lines mean the policy said no."""

    findings: Findings
    refused: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    flattened: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


class VenueReconciler:
    """Compares the venues' orders and positions with the journal; applies the policy."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        journal: OrderJournal,
        clients: Mapping[str, BaseExchangeClient],
        *,
        trackers: Mapping[str, OrderTracker],
        executors: Mapping[str, OrderExecutor],
        policies: Mapping[str, ReconciliationPolicy],
        bot_name: str,
        settle_seconds: float = SETTLE_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self._journal = journal
        self._clients = dict(clients)
        self._trackers = dict(trackers)
        self._executors = dict(executors)
        self._policies = dict(policies)
        self._settle_seconds = settle_seconds
        self._sleep = sleep
        # The id format of this bot's orders (execution.client_ids): "<tag>-...".
        self._prefix = ClientOrderIds(bot_name).next().split("-", 1)[0] + "-"

    def policy(self, venue: str) -> ReconciliationPolicy:
        return self._policies[venue]

    async def track_adopted(self) -> list[str]:
        """Orders an earlier run adopted and the journal still has unfinished: tracked again
        (their fills reach the journal, a stop cancels them like the bot's own); the ids."""
        tracked = []
        for entry in await self._journal.unfinished():
            tracker = self._trackers.get(entry.venue)
            if entry.purpose == ADOPTED and tracker is not None:
                tracker.track(entry.as_order())
                tracked.append(entry.client_order_id)
        return tracked

    # --- looking ---------------------------------------------------------------------------

    async def find(self, venues: Iterable[str] | None = None) -> Findings:
        """The unexplained orders and positions of ``venues`` (all by default), now."""
        findings = Findings()
        for venue in sorted(venues if venues is not None else self._clients):
            client = self._clients[venue]
            # The venue first, then the journal: an order the venue shows was journaled
            # before it was sent, so the later journal read knows it (once the
            # intents in flight are in ``orders``: settled() below).
            open_orders = await client.open_orders()
            positions = await client.positions()
            account_id = self._journal.accounts[venue]
            await self._journal.settled()
            known = await self._known_orders(venue, account_id, open_orders)
            findings.orders += [
                UnexplainedOrder(venue, order, order.client_order_id.startswith(self._prefix))
                for order in open_orders
                if order.client_order_id not in known
                and (order.venue_order_id is None or order.venue_order_id not in known)
            ]
            findings.positions += await self._unexplained_positions(venue, account_id, positions)
        return findings

    async def _known_orders(self, venue: str, account_id: int, orders: list[Order]) -> set[str]:
        """Client and venue order ids of ``orders`` that a journaled order of the account has."""
        client_ids = {o.client_order_id for o in orders if o.client_order_id}
        venue_ids = {o.venue_order_id for o in orders if o.venue_order_id}
        if not client_ids and not venue_ids:
            return set()
        async with self._sessions() as session:
            rows = await session.execute(
                select(OrderRow.client_order_id, OrderRow.venue_order_id).where(
                    OrderRow.venue == venue,
                    OrderRow.account_id == account_id,
                    or_(
                        OrderRow.client_order_id.in_(client_ids),
                        OrderRow.venue_order_id.in_(venue_ids),
                    ),
                )
            )
            return {i for pair in rows for i in pair if i is not None}

    async def _explained_positions(self, venue: str, account_id: int) -> dict[str, Decimal]:
        """Symbol -> signed size the account's journaled fills add up to."""
        sizes: dict[str, Decimal] = defaultdict(Decimal)
        async with self._sessions() as session:
            rows = await session.execute(
                select(OrderRow.symbol, OrderRow.side, OrderRow.filled_size).where(
                    OrderRow.venue == venue, OrderRow.account_id == account_id
                )
            )
            for symbol, side, filled in rows:
                sizes[symbol] += filled if side == "buy" else -filled
        return sizes

    async def _unexplained_positions(
        self, venue: str, account_id: int, positions: list[Position]
    ) -> list[UnexplainedPosition]:
        explained = await self._explained_positions(venue, account_id)
        on_venue = {p.symbol: p for p in positions if p.size != 0}
        found = []
        for symbol in sorted(explained.keys() | on_venue.keys()):
            position = on_venue.get(symbol)
            size = position.size if position is not None else ZERO
            if size != explained.get(symbol, ZERO):
                found.append(
                    UnexplainedPosition(
                        venue,
                        symbol,
                        size,
                        explained.get(symbol, ZERO),
                        position.entry_price if position is not None else None,
                    )
                )
        return found

    async def _confirmed(self, venues: list[str]) -> Findings:
        """Findings that survive the trackers' flush and ``settle_seconds`` (after a reconnect,
        fills can still be on their way to the journal)."""
        first = await self.find(venues)
        if not first:
            return first
        await self._sleep(self._settle_seconds)
        for venue in venues:
            tracker = self._trackers.get(venue)
            if tracker is not None:
                await tracker.flush()
        return (await self.find(venues)).persisting(first)

    # --- deciding --------------------------------------------------------------------------

    async def run(
        self, venues: Iterable[str] | None = None, *, settle: bool = False
    ) -> ReconciliationOutcome:
        """Find what is unexplained on ``venues`` and apply each venue's policy.

        ``settle`` (after a reconnect) confirms findings before acting. Every finding is
        logged as one line; nothing is done on a ``refuse`` venue (``outcome.refused``).
        """
        names = sorted(venues if venues is not None else self._clients)
        findings = await (self._confirmed(names) if settle else self.find(names))
        outcome = ReconciliationOutcome(findings)
        for venue in names:
            found = findings.of(venue)
            if not found:
                continue
            policy = self.policy(venue)
            for line in found.lines():
                log.warning("unexplained venue state", venue=venue, policy=policy, detail=line)
            if policy == "refuse":
                outcome.refused += found.lines()
                continue
            for unexplained_order in found.orders:
                await self._settle_order(policy, unexplained_order, outcome)
            if found.positions:
                # Looked at again: an adopted order's fills now explain part of a position.
                symbols = {p.symbol for p in found.positions}
                client = self._clients[venue]
                account_id = self._journal.accounts[venue]
                for position in await self._unexplained_positions(
                    venue, account_id, await client.positions()
                ):
                    if position.symbol in symbols:
                        await self._settle_position(policy, position, outcome)
        if findings:
            log.warning(
                "venue reconciliation",
                refused=len(outcome.refused),
                adopted=len(outcome.adopted),
                cancelled=len(outcome.cancelled),
                flattened=len(outcome.flattened),
                failed=len(outcome.failed),
            )
        return outcome

    async def _settle_order(
        self, policy: ReconciliationPolicy, found: UnexplainedOrder, outcome: ReconciliationOutcome
    ) -> None:
        order = found.order
        try:
            if policy == "adopt":
                await self._adopt_order(found.venue, order)
                outcome.adopted.append(found.describe())
                log.warning("order adopted", venue=found.venue, order=order.client_order_id)
            else:
                client = self._clients[found.venue]
                if order.venue_order_id is not None:
                    await client.cancel_order(order.symbol, order.venue_order_id)
                else:
                    await client.cancel_by_client_id(order.symbol, order.client_order_id)
                outcome.cancelled.append(found.describe())
                log.warning(
                    "unexplained order cancelled", venue=found.venue, detail=found.describe()
                )
        except TradingError as exc:
            outcome.failed.append(f"{found.describe()}: {policy} failed: {exc}")
            log.error(
                "reconciliation failed", detail=found.describe(), policy=policy, error=str(exc)
            )

    async def _settle_position(
        self,
        policy: ReconciliationPolicy,
        found: UnexplainedPosition,
        outcome: ReconciliationOutcome,
    ) -> None:
        try:
            # Both policies first make the journal agree with the venue ...
            await self._adopt_difference(found)
            if policy == "adopt":
                outcome.adopted.append(found.describe())
                log.warning(
                    "position difference adopted", venue=found.venue, detail=found.describe()
                )
                return
            # ... then ``cancel`` closes, reduce-only, what the venue holds beyond the journal.
            size = _closable(found)
            if size == 0:
                outcome.adopted.append(f"{found.describe()}: smaller than explained, adopted")
                log.warning(
                    "position smaller than the journal explains: adopted (a reduce-only order "
                    "cannot restore it)",
                    venue=found.venue,
                    detail=found.describe(),
                )
                return
            side: Side = "sell" if found.venue_size > 0 else "buy"
            result = await self._executors[found.venue].execute(
                ExecutionRequest(
                    found.symbol,
                    side,
                    size,
                    ExecutionMode.MARKET,
                    reduce_only=True,
                    purpose=FLATTEN,
                )
            )
            if result.filled_size < size:
                raise TradingError(
                    f"closed {_amount(result.filled_size)} of {_amount(size)} (reduce-only market)"
                )
            outcome.flattened.append(f"{found.describe()}: closed {side} {_amount(size)}")
            log.warning(
                "unexplained position part closed", venue=found.venue, detail=found.describe()
            )
        except TradingError as exc:
            outcome.failed.append(f"{found.describe()}: {policy} failed: {exc}")
            log.error(
                "reconciliation failed", detail=found.describe(), policy=policy, error=str(exc)
            )

    # --- writing to the journal ------------------------------------------------------------

    async def _adopt_order(self, venue: str, order: Order) -> None:
        """Journal a venue's open order as this bot's (purpose ``adopted``) and track it, so
        its fills are journaled like any other order's."""
        account_id = self._journal.accounts[venue]

        async def work(session: AsyncSession) -> None:
            session.add(
                OrderRow(
                    client_order_id=order.client_order_id,
                    venue_order_id=order.venue_order_id,
                    bot_id=self._journal.bot_id,
                    venue=venue,
                    account_id=account_id,
                    symbol=order.symbol,
                    side=order.side,
                    order_type=order.order_type.value,
                    price=order.price,
                    size=order.size,
                    filled_size=order.filled_size,
                    avg_fill_price=order.avg_fill_price,
                    status=order.status.value,
                    reduce_only=order.reduce_only,
                    post_only=order.post_only,
                    purpose=ADOPTED,
                )
            )
            await session.flush()

        try:
            await self._journal.committer.run(work)
        except IntegrityError:
            raise TradingError(
                f"client order id {order.client_order_id!r} is journaled for another account"
            ) from None
        tracker = self._trackers.get(venue)
        if tracker is not None:
            tracker.track(order)

    async def _adopt_difference(self, found: UnexplainedPosition) -> None:
        """Journal the unexplained part of a position as a filled ``external`` order (and its
        fill), so the journal explains what the venue holds."""
        difference = found.difference
        price = found.price or await self._reference_price(found.venue, found.symbol)
        client_order_id = f"ext-{int(time.time() * 1000):x}-{uuid.uuid4().hex[:12]}"
        account_id = self._journal.accounts[found.venue]
        size = abs(difference)

        async def work(session: AsyncSession) -> None:
            row = OrderRow(
                client_order_id=client_order_id,
                bot_id=self._journal.bot_id,
                venue=found.venue,
                account_id=account_id,
                symbol=found.symbol,
                side="buy" if difference > 0 else "sell",
                order_type=OrderType.MARKET.value,
                size=size,
                filled_size=size,
                avg_fill_price=price,
                status=OrderStatus.FILLED.value,
                purpose=EXTERNAL,
            )
            session.add(row)
            await session.flush()
            session.add(
                FillRow(
                    venue=found.venue,
                    venue_fill_id=f"{EXTERNAL}:{client_order_id}",
                    order_id=row.id,
                    price=price,
                    size=size,
                    fee=ZERO,
                    fee_asset="USD",
                    liquidity="taker",
                    ts=utcnow(),
                )
            )

        await self._journal.committer.run(work)

    async def _reference_price(self, venue: str, symbol: str) -> Decimal:
        """A price for a journaled position change the venue gave none for: the mid."""
        bid, ask = await self._clients[venue].best_bid_ask(symbol)
        return (bid + ask) / 2


def _closable(found: UnexplainedPosition) -> Decimal:
    """How much of the venue position a reduce-only order can take back to the explained
    size: the part beyond it on the same side, or all of it when the sides differ."""
    venue, explained = found.venue_size, found.explained_size
    if venue == 0:
        return ZERO
    if explained == 0 or (explained > 0) != (venue > 0):
        return abs(venue)
    return max(ZERO, abs(venue) - abs(explained))
