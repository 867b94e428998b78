"""Funding arbitrage: long where funding is cheap, short where it pays, hedged, on 2+ venues.

Every ``check_interval_seconds``:

1. **Monitor** each open pair: both legs read from their venues (size, entry, mark, liquidation
   price, funding accrued), the current funding spread, and :func:`.exits.check_exit` decides
   (divergence flip, profit erosion, max age, liquidation risk, leg imbalance; non-urgent exits
   wait for break-even, ``min_hold_hours`` and a bid/ask spread within ``max_exit_spread_pct``).
   An exit closes both legs through the atomic executor.
2. **Switch** (``switch_margin_apr_pct`` set): a held pair is closed for a better one when the
   new pair's net APR beats the held pair's current APR, less the held pair's closing fees
   amortised over ``expected_hold_hours``, by at least the margin (the new pair's own opening
   and closing fees are already in its net APR).
3. **Enter** while fewer than ``max_positions`` pairs are open and the bot is not paused: the
   venues' funding, books and fees are scanned (:func:`.opportunities.scan`), the best pairs not
   already held (nor on a venue/symbol cooling down after a too-wide spread) are sized by target
   margin under a leverage cap, checked against the per-venue exposure cap and the risk
   manager, and opened with the atomic executor - at most ``max_new_positions_per_cycle``.
   With ``opportunities: service`` the candidates come from the funding-rate service (its
   collected rates, ranked by this same scan with this bot's filters): only their symbols are
   quoted live and scanned, and while the service is unreachable, or has no rate newer than
   ``service_max_age_seconds`` for one of the venues, every symbol is scanned directly (each
   switch logged once).

**How orders go** follows the bot's ``execution`` section. ``market``: both legs at market,
concurrently. ``limit``, ``limit_with_fallback``, ``aggressive_limit``: a maker entry - the
pair's lead leg (:attr:`.opportunities.Opportunity.lead_venue`) rests post-only inside the
spread for ``limit_timeout_seconds``, then (per the mode) ``aggressive_attempts`` aggressive
limits and a market order take its remainder; the other leg follows what the lead filled,
capped at the break-even price (:func:`execution.atomic.policy.hedge_limit`), see
``AtomicTolerances.sequenced``. Economic exits go the same way; urgent exits (liquidation risk,
leg imbalance) and closes asked from outside (the operator, the kill switch) go at market.

Open pairs are the state (saved after every change); the venues' positions are the truth they
are checked against.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchange_clients.types import HOURS_PER_YEAR, Order, Side
from execution.atomic import AtomicStatus, AtomicTolerances, Leg
from execution.journal import JournaledOrder
from execution.order_executor import ExecutionMode, ExecutionRequest, ExecutionResult
from execution.pricing import AggressiveLimitParams
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.funding_arbitrage.exits import (
    LegState,
    PositionState,
    check_exit,
    hours_held,
    spread_hold,
)
from strategies.funding_arbitrage.opportunities import (
    Opportunity,
    ScanResult,
    VenueQuote,
    scan,
    size_position,
)
from strategies.funding_arbitrage.params import FundingArbitrageParams
from strategies.funding_arbitrage.quotes import collect_quotes, taker_fee
from strategies.risk import EntryProposal, PortfolioSnapshot

if TYPE_CHECKING:
    from strategies.funding_arbitrage.service_client import FundingServiceClient

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass
class ArbPosition:
    """One open pair, as the strategy opened it."""

    operation_id: str
    symbol: str
    long_venue: str
    short_venue: str
    size: Decimal
    opened_at: datetime
    fees_paid: Decimal
    peak_net_pnl: Decimal = ZERO
    long_entry: Decimal | None = None  # average fill prices of the opening orders
    short_entry: Decimal | None = None
    lead_venue: str | None = None  # the leg maker entries and exits start with

    @property
    def lead(self) -> str:
        return self.lead_venue or self.long_venue

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.symbol, self.long_venue, self.short_venue)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "symbol": self.symbol,
            "long_venue": self.long_venue,
            "short_venue": self.short_venue,
            "size": self.size,
            "opened_at": self.opened_at.isoformat(),
            "fees_paid": self.fees_paid,
            "peak_net_pnl": self.peak_net_pnl,
            "long_entry": self.long_entry,
            "short_entry": self.short_entry,
            "lead_venue": self.lead_venue,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArbPosition:
        return cls(
            str(data["operation_id"]),
            str(data["symbol"]),
            str(data["long_venue"]),
            str(data["short_venue"]),
            Decimal(data["size"]),
            datetime.fromisoformat(str(data["opened_at"])),
            Decimal(data["fees_paid"]),
            Decimal(data.get("peak_net_pnl", 0)),
            _decimal_or_none(data.get("long_entry")),
            _decimal_or_none(data.get("short_entry")),
            data.get("lead_venue"),
        )


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _debug_enabled(log: Any) -> bool:
    """Whether ``log`` writes DEBUG lines (a stdlib-backed structlog logger or a native one;
    one that cannot tell is assumed to)."""
    check = getattr(log, "isEnabledFor", None) or getattr(log, "is_enabled_for", None)
    return check is None or bool(check(logging.DEBUG))


class FundingArbitrageStrategy(BaseStrategy[FundingArbitrageParams]):
    def __init__(self, context: StrategyContext, params: FundingArbitrageParams) -> None:
        super().__init__(context, params)
        self.interval_seconds = float(params.check_interval_seconds)
        self.positions: list[ArbPosition] = []
        self.realized_pnl = ZERO
        self.fees = ZERO
        self.last_scan: list[str] = []
        execution = context.config.execution
        self.mode = ExecutionMode(execution.default_mode)
        # (venue, symbol) -> until when entries leave it alone after a too-wide spread
        self.cooldowns: dict[tuple[str, str], datetime] = {}
        # opportunities: service - the client (made at first use) and, while the check scans
        # directly instead, why (None: the service is used)
        self._service: FundingServiceClient | None = None
        self.service_fallback: str | None = None
        # A pair's peak net PnL moved since the state was last saved.
        self._peak_unsaved = False

    @property
    def maker(self) -> bool:
        """Entries (and economic exits) rest as makers on the lead leg."""
        return self.mode is not ExecutionMode.MARKET

    def keeps_resting(self, order: JournaledOrder) -> bool:
        return False  # pairs are opened and closed atomically: nothing should rest

    async def should_execute(self) -> bool:
        return True

    async def execute_strategy(self) -> None:
        exited = False
        try:
            for position in list(self.positions):
                exited = await self._monitor(position) or exited
        finally:
            # New peaks of the pairs checked, saved once (a close in between saved them).
            if self._peak_unsaved:
                await self.save_state()
        if exited:
            return  # re-entering in the same step would pay the round trip again at once
        if self.context.paused.is_set():
            return
        switching = self.params.switch_margin_apr_pct is not None and bool(self.positions)
        if len(self.positions) >= self.params.max_positions and not switching:
            return
        quotes = await self._quotes()
        result = self._scan(quotes)
        opened = await self._switch(result, quotes) if switching else 0
        if len(self.positions) < self.params.max_positions:
            await self._enter(result, quotes, opened)

    def tolerances(self, leverage: Decimal | None = None) -> AtomicTolerances:
        """The atomic executor's limits from the bot's ``execution`` section."""
        execution = self.context.config.execution
        return AtomicTolerances(
            max_slippage=execution.max_slippage_pct / 100,
            margin_buffer=execution.margin_buffer_pct / 100,
            leverage=leverage,
            entry_timeout_seconds=float(execution.limit_timeout_seconds),
            chase=AggressiveLimitParams(attempts=execution.aggressive_attempts),
            sequenced=self.maker,
        )

    # --- entering --------------------------------------------------------------------------

    async def _quotes(self) -> list[VenueQuote]:
        clients = {venue: self.context.clients[venue] for venue in self.params.venues}
        symbols = self.params.symbols or None
        if self.params.opportunities == "service":
            candidates = await self._service_candidates()
            if candidates is not None:
                if not candidates:
                    self.log.info("no opportunity from the funding-rate service")
                    return []
                symbols = candidates
        return await collect_quotes(clients, symbols)

    def _service_staleness(self, updates: Mapping[str, datetime | None]) -> str | None:
        """Why the service's data cannot stand for this bot's venues now (None: it can): a
        venue it does not collect, or one whose newest rate is older than the bound."""
        params = self.params
        missing = [v for v in params.venues if updates.get(v) is None]
        if missing:
            return (
                f"the funding-rate service at {params.service_url} has no rates for "
                f"{', '.join(missing)}"
            )
        now = self.context.clock.now()
        ages = {v: (now - when).total_seconds() for v in params.venues if (when := updates[v])}
        venue = max(ages, key=lambda v: ages[v])
        if ages[venue] > params.service_max_age_seconds:
            return (
                f"the funding-rate service's newest {venue} rate is {ages[venue]:.0f} s old "
                f"(service_max_age_seconds {params.service_max_age_seconds})"
            )
        return None

    async def _service_candidates(self) -> list[str] | None:
        """The symbols of the service's opportunities for this bot's filters (best first),
        or None when the service cannot be used now (unreachable, not collecting one of the
        bot's venues, or a venue's newest rate older than ``service_max_age_seconds``): the
        check then scans directly. The switch either way
        is logged once, when it happens."""
        from strategies.funding_arbitrage.service_client import (
            FundingServiceClient,
            FundingServiceUnavailable,
            OpportunityFilters,
            env_token,
        )

        params = self.params
        if self._service is None:
            self._service = FundingServiceClient(params.service_url, token=env_token())
        filters = OpportunityFilters(
            venues=params.venues,
            symbols=params.symbols,
            required_venue=params.mandatory_venue,
            min_net_apr_pct=params.min_net_apr_pct,
            hold_hours=params.expected_hold_hours,
            maker=self.maker,
            min_volume_24h_usd=params.min_volume_24h_usd,
            min_open_interest_usd=params.min_open_interest_usd,
            max_price_divergence_pct=params.max_price_divergence_pct,
            limit=max(10, 3 * params.max_positions),
        )
        problem: str | None = None
        try:
            answer = await self._service.opportunities(filters)
            updates = await self._service.venue_updates()
        except FundingServiceUnavailable as exc:
            problem = str(exc)
        else:
            problem = self._service_staleness(updates)
        if problem is not None:
            if self.service_fallback is None:
                self.log.warning("opportunities: scanning directly", reason=problem)
            self.service_fallback = problem
            return None
        if self.service_fallback is not None:
            self.log.info("opportunities: the funding-rate service answers again")
            self.service_fallback = None
        return list(dict.fromkeys(o.symbol for o in answer.opportunities))

    def _scan(self, quotes: list[VenueQuote]) -> ScanResult:
        """Rank the pairs; start a cooldown on every venue/symbol refused for its spread."""
        result = scan(quotes, self.params, maker=self.maker)
        self.last_scan = [
            f"{o.symbol} long {o.long_venue} short {o.short_venue}: {o.net_apr_pct:.2f}% APR net"
            for o in result.opportunities[:5]
        ]
        cooldown = self.params.wide_spread_cooldown_seconds
        if cooldown:
            until = self.context.clock.now() + timedelta(seconds=cooldown)
            for rejection in result.rejected:
                for venue in rejection.wide_spread_venues:
                    self.cooldowns[(venue, rejection.symbol)] = until
        return result

    def _cooling(self, opportunity: Opportunity) -> str | None:
        """The venue of ``opportunity`` still cooling down after a too-wide spread, if any."""
        now = self.context.clock.now()
        for venue in (opportunity.long_venue, opportunity.short_venue):
            until = self.cooldowns.get((venue, opportunity.symbol))
            if until is not None and now < until:
                return venue
        return None

    def _legs_in_use(self, *, besides: ArbPosition | None = None) -> set[tuple[str, str]]:
        # A venue holds one net position per symbol: two pairs sharing a (venue, symbol) could
        # not be told apart (each would read the other's size as its own), so never open one.
        return {
            (venue, position.symbol)
            for position in self.positions
            if position is not besides
            for venue in (position.long_venue, position.short_venue)
        }

    @staticmethod
    def _legs(opportunity: Opportunity) -> set[tuple[str, str]]:
        return {
            (opportunity.long_venue, opportunity.symbol),
            (opportunity.short_venue, opportunity.symbol),
        }

    async def _enter(self, result: ScanResult, quotes: list[VenueQuote], opened: int = 0) -> None:
        """Open the best pairs; ``opened`` pairs were opened in this check already."""
        for opportunity in result.opportunities:
            if (
                opened >= self.params.max_new_positions_per_cycle
                or len(self.positions) >= self.params.max_positions
            ):
                break
            if self._legs(opportunity) & self._legs_in_use():
                continue
            cooling = self._cooling(opportunity)
            if cooling is not None:
                self.log.info(
                    "pair skipped: wide-spread cooldown",
                    symbol=opportunity.symbol,
                    venue=cooling,
                    until=self.cooldowns[(cooling, opportunity.symbol)].isoformat(),
                )
                continue
            if await self._open(opportunity, quotes):
                opened += 1
        if not result.opportunities:
            self.log.info("no opportunity", rejected=len(result.rejected))
        # Why each pair was not taken, with its numbers: "why did it not open ETH?" is the
        # first question an operator asks; answered at DEBUG to keep INFO one line per scan.
        # (Hundreds a step: not even written when DEBUG is off.)
        if not _debug_enabled(self.log):
            return
        for rejection in result.rejected:
            self.log.debug(
                "pair not taken",
                symbol=rejection.symbol,
                long_venue=rejection.long_venue,
                short_venue=rejection.short_venue,
                reason=rejection.reason,
            )

    async def _open(self, opportunity: Opportunity, quotes: list[VenueQuote]) -> bool:
        by_venue = {q.venue: q for q in quotes if q.symbol == opportunity.symbol}
        markets = {
            venue: await self.context.clients[venue].market(opportunity.symbol)
            for venue in (opportunity.long_venue, opportunity.short_venue)
        }
        sizing = size_position(opportunity, by_venue, markets, self.params)
        if sizing.size <= 0:
            self.log.info("opportunity too small to trade", reason=sizing.reason)
            return False
        notional = sizing.notional_per_leg
        exposure = await self._exposure_by_venue()
        cap = self.params.max_exposure_per_venue_usd
        for venue in (opportunity.long_venue, opportunity.short_venue):
            if cap is not None and exposure.get(venue, ZERO) + notional > cap:
                self.log.info("venue exposure cap reached", venue=venue, cap=str(cap))
                return False
        decision = self.context.risk.evaluate_entry(
            EntryProposal(
                "funding_arbitrage",
                opportunity.symbol,
                {opportunity.long_venue: notional, opportunity.short_venue: notional},
            ),
            PortfolioSnapshot(
                equity=await self._equity(),
                exposure_by_venue=exposure,
                open_positions=len(self.positions),
            ),
        )
        if not decision.allowed or decision.allowed_notional < notional * 2:
            return False
        legs = [
            Leg(opportunity.long_venue, opportunity.symbol, "buy", sizing.size),
            Leg(opportunity.short_venue, opportunity.symbol, "sell", sizing.size),
        ]
        legs.sort(key=lambda leg: leg.venue != opportunity.lead)  # the lead first
        self.log.info(
            "opening funding arbitrage",
            symbol=opportunity.symbol,
            long=opportunity.long_venue,
            short=opportunity.short_venue,
            size=str(sizing.size),
            leverage=str(sizing.leverage),
            mode=self.mode.value,
            lead=opportunity.lead if self.maker else None,
            net_apr_pct=f"{opportunity.net_apr_pct:.2f}",
        )
        result = await self.context.atomic.execute(
            legs, self.mode, self.tolerances(sizing.leverage), purpose="arb_open"
        )
        long_leg, short_leg = (
            result.leg(opportunity.long_venue),
            result.leg(opportunity.short_venue),
        )
        if result.status in (AtomicStatus.COMPLETED, AtomicStatus.PARTIAL) and long_leg.net > 0:
            self.positions.append(
                ArbPosition(
                    result.operation_id,
                    opportunity.symbol,
                    opportunity.long_venue,
                    opportunity.short_venue,
                    long_leg.net,
                    self.context.clock.now(),
                    result.fees,
                    long_entry=long_leg.entry_price,
                    short_entry=short_leg.entry_price,
                    lead_venue=opportunity.lead,
                )
            )
            self.fees += result.fees
            await self.save_state()
            return True
        self.log.warning("arbitrage not opened", status=result.status, events=result.events)
        return False

    # --- switching -------------------------------------------------------------------------

    async def _switch(self, result: ScanResult, quotes: list[VenueQuote]) -> int:
        """Close the held pair a better opportunity beats by the margin, and open that one;
        how many pairs were opened (0 or 1)."""
        margin = self.params.switch_margin_apr_pct
        assert margin is not None
        by_key = {(q.venue, q.symbol): q for q in quotes}
        now = self.context.clock.now()
        for position in list(self.positions):
            hurdle = self._switch_hurdle(position, by_key)
            if hurdle is None:
                continue
            for opportunity in result.opportunities:
                if opportunity.key == position.key:
                    continue
                if self._legs(opportunity) & self._legs_in_use(besides=position):
                    continue
                if self._cooling(opportunity) is not None:
                    continue
                if opportunity.net_apr_pct - hurdle < margin:
                    break  # ranked best first: no later one beats it either
                state = await self._position_state(position)
                if hours_held(state, now) < self.params.min_hold_hours:
                    break  # too fresh to give up yet: its entry fees are not earned back
                self.log.warning(
                    "switching funding arbitrage",
                    held=f"{position.symbol} {position.long_venue}/{position.short_venue}",
                    hurdle_apr_pct=f"{hurdle:.2f}",
                    to=f"{opportunity.symbol} {opportunity.long_venue}/{opportunity.short_venue}",
                    to_apr_pct=f"{opportunity.net_apr_pct:.2f}",
                    margin_pct=str(margin),
                )
                if await self._close(position, state, urgent=False) is None:
                    return 0
                return 1 if await self._open(opportunity, quotes) else 0
        return 0  # (one switch per check at most: the next check re-reads the market)

    def _switch_hurdle(
        self, position: ArbPosition, quotes: Mapping[tuple[str, str], VenueQuote]
    ) -> Decimal | None:
        """The net APR a new pair must beat (before the margin) to replace ``position``.

        The held pair's gross APR now, plus its closing fees amortised over
        ``expected_hold_hours`` as if switching paid them on top (staying would pay them
        too, later: charging them here makes a switch harder, never easier). The new pair's
        opening and closing fees are already in its net APR. None when a venue did not quote
        the symbol this time (then the pair is not compared).
        """
        long = quotes.get((position.long_venue, position.symbol))
        short = quotes.get((position.short_venue, position.symbol))
        if long is None or short is None:
            return None
        gross = short.funding.hourly_rate - long.funding.hourly_rate
        close_fees = self._exit_fees(position, long, short)
        hurdle_hourly = gross + close_fees / self.params.expected_hold_hours
        return hurdle_hourly * HOURS_PER_YEAR * HUNDRED

    def _exit_fees(
        self, position: ArbPosition, long: VenueQuote | None, short: VenueQuote | None
    ) -> Decimal:
        """Fees of closing both legs, a fraction of one leg's notional: the lead at its maker
        fee in a maker mode, the rest at the taker fee."""
        total = ZERO
        for venue, quote in ((position.long_venue, long), (position.short_venue, short)):
            if quote is None:
                total += taker_fee(venue)
            elif self.maker and venue == position.lead:
                total += quote.maker_or_taker_fee
            else:
                total += quote.taker_fee
        return total

    # --- monitoring ------------------------------------------------------------------------

    async def _leg(self, venue: str, symbol: str, side: Side, fees: Decimal) -> LegState:
        position = await self.context.clients[venue].position(symbol)
        if position is None:
            mark = (await self.context.clients[venue].funding_rate(symbol)).mark_price or ZERO
            return LegState(venue, side, ZERO, mark, mark, None, ZERO, fees)
        return LegState.from_position(venue, position, fees)

    async def _position_state(self, position: ArbPosition) -> PositionState:
        """The pair now, as its venues report it."""
        half_fees = position.fees_paid / 2
        long = await self._leg(position.long_venue, position.symbol, "buy", half_fees)
        short = await self._leg(position.short_venue, position.symbol, "sell", half_fees)
        spread = (
            await self.context.clients[position.short_venue].funding_rate(position.symbol)
        ).hourly_rate - (
            await self.context.clients[position.long_venue].funding_rate(position.symbol)
        ).hourly_rate
        return PositionState(
            position.symbol, long, short, position.opened_at, position.peak_net_pnl, spread
        )

    async def _monitor(self, position: ArbPosition) -> bool:
        """Check one pair's exit rules; True when it was closed."""
        state = await self._position_state(position)
        if state.net_pnl > position.peak_net_pnl:
            position.peak_net_pnl = state.net_pnl
            # Profit erosion is measured from it, across restarts too: saved by the end of the
            # check of the pairs (once for all of them, see execute_strategy).
            self._peak_unsaved = True
        exit_fees = taker_fee(position.long_venue) + taker_fee(position.short_venue)
        decision = check_exit(
            state, self.context.clock.now(), self.params, exit_fees_fraction=exit_fees
        )
        if decision is None:
            return False
        if self.params.max_exit_spread_pct is not None:
            held = spread_hold(decision, await self._spreads(position), self.params)
            if held is not None:
                self.log.info(
                    "exit waits for the spread",
                    reason=decision.reason,
                    urgent=decision.urgent,
                    detail=held,
                )
                return False
        self.log.warning(
            "closing funding arbitrage",
            reason=decision.reason,
            detail=decision.detail,
            at_market=decision.urgent or not self.maker,
        )
        return await self._close(position, state, urgent=decision.urgent) is not None

    async def _spreads(self, position: ArbPosition) -> dict[str, Decimal]:
        """Each leg's venue bid/ask spread now, percent of the mid."""
        spreads = {}
        for venue in (position.long_venue, position.short_venue):
            bid, ask = await self.context.clients[venue].best_bid_ask(position.symbol)
            spreads[venue] = (ask - bid) / ((ask + bid) / 2) * HUNDRED
        return spreads

    async def close_position(self, venue: str, request: ExecutionRequest) -> ExecutionResult:
        """The operator closes a leg: its whole pair closes, through the pair's own close.

        At market (as an urgent exit: the operator or the kill switch wants out now) and both
        legs together, whatever ``request`` asked: one leg closed alone would leave the other
        unhedged. The pair's PnL is booked and the pair forgotten, so
        the symbol can be entered again. A position that is no pair's is closed as asked.
        """
        pair = next(
            (
                p
                for p in self.positions
                if p.symbol == request.symbol and venue in (p.long_venue, p.short_venue)
            ),
            None,
        )
        if pair is None:
            return await super().close_position(venue, request)
        self.log.warning(
            "closing funding arbitrage on the operator's word",
            symbol=pair.symbol,
            long=pair.long_venue,
            short=pair.short_venue,
        )
        orders = await self._close(pair, await self._position_state(pair), urgent=True)
        return ExecutionResult(request, orders=(orders or {}).get(venue, []))

    async def _close(
        self, position: ArbPosition, state: PositionState, *, urgent: bool
    ) -> dict[str, list[Order]] | None:
        """Close both legs: the hedged part together, any excess of one leg on its own.

        ``urgent`` closes at market; otherwise in the configured mode (a maker close led by
        the pair's lead leg, see the module doc). An excess of one leg closes at market.

        Realised PnL is booked from the fills (what the venues paid), plus funding accrued,
        minus every fee; marks only decide *when* to exit. The orders sent, per venue; None
        when the pair could not be closed (it stays, and is monitored again).
        """
        common = min(state.long.size, state.short.size)
        fills: dict[str, tuple[Decimal, Decimal]] = {}  # venue -> (size closed, average price)
        sent: dict[str, list[Order]] = {}
        fees = ZERO
        operation_id: str | None = None
        if common > 0:
            legs = [
                Leg(position.long_venue, position.symbol, "sell", common, reduce_only=True),
                Leg(position.short_venue, position.symbol, "buy", common, reduce_only=True),
            ]
            legs.sort(key=lambda leg: leg.venue != position.lead)  # the lead first
            maker = self.maker and not urgent
            result = await self.context.atomic.execute(
                legs,
                self.mode if maker else ExecutionMode.MARKET,
                self.tolerances() if maker else AtomicTolerances(),
                purpose="arb_close",
            )
            if result.status not in (AtomicStatus.COMPLETED, AtomicStatus.PARTIAL):
                self.log.error("closing the pair failed", status=result.status)
                return None
            fees += result.fees
            operation_id = result.operation_id
            for leg in result.legs:
                sent.setdefault(leg.leg.venue, []).extend(leg.orders.values())
                if leg.entry_price is not None:
                    fills[leg.leg.venue] = (leg.opened, leg.entry_price)
        for venue, leg_state, side in (
            (position.long_venue, state.long, "sell"),
            (position.short_venue, state.short, "buy"),
        ):
            excess = leg_state.size - common
            if excess <= 0:
                continue
            self.log.warning("closing an unhedged excess", venue=venue, size=str(excess))
            executed = await self.context.executors[venue].execute(
                ExecutionRequest(
                    position.symbol,
                    "sell" if side == "sell" else "buy",
                    excess,
                    ExecutionMode.MARKET,
                    reduce_only=True,
                    purpose="arb_close",
                    operation_id=operation_id,  # journaled with the pair's closing operation
                )
            )
            sent.setdefault(venue, []).extend(executed.orders)
            fees += sum((o.fee_paid for o in executed.orders), ZERO)
            if executed.average_price is not None:
                size, price = fills.get(venue, (ZERO, ZERO))
                total = size + executed.filled_size
                fills[venue] = (
                    total,
                    (size * price + executed.filled_size * executed.average_price) / total,
                )
        pnl = self._realized(position, state, fills) - fees
        self.realized_pnl += pnl
        self.fees += fees
        self.context.risk.record_trade(pnl)
        self.positions.remove(position)
        await self.save_state()
        self.log.info("funding arbitrage closed", symbol=position.symbol, pnl=str(pnl))
        return sent

    @staticmethod
    def _realized(
        position: ArbPosition, state: PositionState, fills: Mapping[str, tuple[Decimal, Decimal]]
    ) -> Decimal:
        """Price PnL of what was closed at its fill prices, plus funding, minus entry fees."""
        pnl = state.long.accrued_funding + state.short.accrued_funding - position.fees_paid
        long_entry = position.long_entry or state.long.entry_price
        short_entry = position.short_entry or state.short.entry_price
        if position.long_venue in fills:
            size, price = fills[position.long_venue]
            pnl += (price - long_entry) * size
        if position.short_venue in fills:
            size, price = fills[position.short_venue]
            pnl += (short_entry - price) * size
        return pnl

    # --- helpers ---------------------------------------------------------------------------

    async def _exposure_by_venue(self) -> dict[str, Decimal]:
        exposure: dict[str, Decimal] = {}
        for venue in self.params.venues:
            positions = await self.context.clients[venue].positions()
            exposure[venue] = sum((p.notional for p in positions), ZERO)
        return exposure

    async def _equity(self) -> Decimal:
        total = ZERO
        for venue in self.params.venues:
            total += (await self.context.clients[venue].balance()).equity
        return total

    async def save_state(self) -> None:
        self._peak_unsaved = False  # the state saved holds every peak
        await super().save_state()

    def state(self) -> dict[str, Any]:
        return {
            "positions": [p.to_json() for p in self.positions],
            "realized_pnl": self.realized_pnl,
            "fees": self.fees,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        self.positions = [ArbPosition.from_json(p) for p in state.get("positions", [])]
        self.realized_pnl = Decimal(state.get("realized_pnl", 0))
        self.fees = Decimal(state.get("fees", 0))

    def describe(self) -> dict[str, Any]:
        return {
            "positions": [p.to_json() for p in self.positions],
            "realized_pnl": self.realized_pnl,
            "fees": self.fees,
            "top_opportunities": self.last_scan,
        }
