"""The risk manager: the one place that says whether a strategy may open exposure, and how much.

Strategies decide *what* to trade; this module decides *whether* and *how big*, so every bot in
the fleet enforces the same limits from its ``risk:`` config section in the same order, with one
logged sentence per decision that a human can read back later.

* :meth:`RiskManager.evaluate_entry` checks a proposed entry against the kill switch, the daily
  loss pause, the post-loss cooldown, the open-position count, the per-position, per-venue and
  total exposure caps and (optionally) fractional-Kelly sizing - first failing rule decides, and
  size caps shrink the entry instead of refusing it while there is headroom left.
* :meth:`RiskManager.update_equity` is fed the account equity periodically; it tracks the peak and
  the day's starting equity, and returns a :class:`KillSwitch` event (once) when the drawdown from
  the peak reaches ``max_drawdown_pct``. The runtime acts on it (cancel, flatten, stop, alert).
* :meth:`RiskManager.record_trade` is fed each closed trade's realised PnL: it starts the cooldown
  after a loss and feeds the Kelly statistics.
* :meth:`RiskManager.state` / :meth:`RiskManager.restore` persist all of that, so a restart neither
  forgets a kill switch or a pause nor forgets the peak equity a drawdown is measured from.

Money is :class:`~decimal.Decimal` throughout; amounts that come out of a division are rounded
*down* (toward the safe side) to 1e-8 USD, so a resized entry never overshoots the cap it was
resized to.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal, localcontext
from enum import StrEnum
from typing import Any

import structlog

from core.clock import Clock
from trading_config.schema import RiskConfig

log = structlog.get_logger(__name__)
# The level check alone, for the hot path: a structlog call that ends up filtered still
# binds a logger first (tens of microseconds on every entry of a scalper).
_levels = logging.getLogger(__name__)

#: Fewer closed trades than this and Kelly sizing does not resize (too little evidence).
MIN_KELLY_TRADES = 20

#: Resized amounts that come out of a division are floored to this many USD.
_USD_QUANTUM = Decimal("1e-8")

_STATE_VERSION = 1
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class EntryProposal:
    """A new position (or grid entry) a strategy wants to open."""

    strategy: str
    """Who asks, e.g. ``"grid"`` or ``"funding_arbitrage"``."""
    symbol: str
    notional_by_venue: Mapping[str, Decimal]
    """USD notional the entry adds on each venue (a hedged arbitrage adds on two)."""
    opens_position: bool = True
    """False when adding to a position that is already open (does not count as a new one)."""

    def __post_init__(self) -> None:
        if not self.notional_by_venue:
            raise ValueError("an entry proposal needs the notional it adds on at least one venue")
        for venue, amount in self.notional_by_venue.items():
            if not amount.is_finite() or amount < 0:
                raise ValueError(f"notional on {venue} must be a finite amount >= 0, got {amount}")
        if self.notional <= 0:
            raise ValueError("an entry proposal must add a positive notional")

    @property
    def notional(self) -> Decimal:
        """Total USD notional the entry adds, summed over venues."""
        return sum(self.notional_by_venue.values(), _ZERO)


@dataclass(frozen=True)
class PortfolioSnapshot:
    """What is open right now, as the strategy sees it when it asks."""

    equity: Decimal
    """Account equity summed over venues, USD."""
    exposure_by_venue: Mapping[str, Decimal]
    """Open notional per venue, USD (signs are ignored: exposure is absolute)."""
    open_positions: int
    largest_position_notional: Decimal = _ZERO
    """Informational only; the per-position cap applies to the proposal itself."""

    @property
    def total_exposure(self) -> Decimal:
        """Open notional summed over venues, USD."""
        return sum((abs(v) for v in self.exposure_by_venue.values()), _ZERO)


class RiskVerdict(StrEnum):
    """The outcome of an entry check."""

    ALLOW = "allow"
    RESIZE = "resize"
    REJECT = "reject"
    PAUSED = "paused"
    KILLED = "killed"


@dataclass(frozen=True)
class RiskDecision:
    """The answer to an :class:`EntryProposal`."""

    verdict: RiskVerdict
    reason: str
    """One human sentence with the numbers that decided it."""
    allowed_notional: Decimal
    """What the strategy may open: the full notional on ALLOW, less on RESIZE, 0 otherwise.

    On RESIZE every venue's share shrinks by the same factor
    (``allowed_notional / proposal.notional``)."""

    @property
    def allowed(self) -> bool:
        """True when the strategy may open something (ALLOW or RESIZE)."""
        return self.verdict in (RiskVerdict.ALLOW, RiskVerdict.RESIZE)


@dataclass(frozen=True)
class KillSwitch:
    """Returned (not raised) by :meth:`RiskManager.update_equity` when the drawdown is breached.

    The runtime acts on it: cancel every order, flatten, stop the bot, alert.
    """

    reason: str
    equity: Decimal
    peak_equity: Decimal
    at: datetime


@dataclass
class _TradeStats:
    count: int = 0
    wins: int = 0
    losses: int = 0
    sum_wins: Decimal = _ZERO
    sum_losses: Decimal = _ZERO  # positive: the sum of |pnl| over losing trades


class RiskManager:
    """Enforces one bot's :class:`~trading_config.schema.RiskConfig`.

    Not thread-safe; use it from the bot's event loop. All time comes from ``clock``.
    """

    def __init__(self, config: RiskConfig, clock: Clock, *, bot: str = "") -> None:
        self._config = config
        self._clock = clock
        # Bound per call, not here: binding now would freeze the logging setup of this moment.
        self._log_context: dict[str, str] = {"bot": bot} if bot else {}
        self._peak_equity: Decimal | None = None
        self._last_equity: Decimal | None = None
        self._day: date | None = None
        self._day_start_equity: Decimal | None = None
        self._daily_realised_pnl = _ZERO
        self._daily_pause_until: datetime | None = None
        self._daily_pause_loss: Decimal | None = None  # the loss that engaged the pause
        self._last_loss_at: datetime | None = None
        self._kill: KillSwitch | None = None
        self._stats = _TradeStats()
        self._kelly_inactive_logged = False

    # ------------------------------------------------------------------ inputs

    def record_trade(self, pnl: Decimal) -> None:
        """Record a closed trade's realised PnL (after fees), USD.

        A loss starts the cooldown; every trade feeds the Kelly statistics and the day's
        realised PnL (reported in :meth:`state`; the daily-loss rule itself uses equity, which
        already includes realised PnL).
        """
        now = self._clock.now()
        self._roll_day(now)
        self._daily_realised_pnl += pnl
        stats = self._stats
        stats.count += 1
        if pnl > 0:
            stats.wins += 1
            stats.sum_wins += pnl
        elif pnl < 0:
            stats.losses += 1
            stats.sum_losses += -pnl
            self._last_loss_at = now

    def update_equity(self, equity: Decimal) -> KillSwitch | None:
        """Feed the current account equity (USD); call it periodically.

        Tracks the peak equity and the day's starting equity (the first equity seen each UTC
        day), engages the daily-loss pause when the day's loss reaches the limit, and returns a
        :class:`KillSwitch` the first time the drawdown from the peak reaches
        ``max_drawdown_pct``; later calls return None while the kill switch stays engaged.
        """
        now = self._clock.now()
        self._roll_day(now)
        if self._day_start_equity is None:
            self._day_start_equity = equity
        self._last_equity = equity
        if self._peak_equity is None or equity > self._peak_equity:
            self._peak_equity = equity
        self._check_daily_loss(now)
        if self._kill is not None:
            return None
        limit = self._config.max_drawdown_pct
        peak = self._peak_equity
        if limit is None or peak <= 0:
            return None
        drawdown_pct = (peak - equity) / peak * _HUNDRED
        if drawdown_pct < limit:
            return None
        return self.trip(
            f"drawdown {_fmt(drawdown_pct)}% from peak equity {_fmt(peak)} USD to "
            f"{_fmt(equity)} USD reached the {_fmt(limit)}% limit",
            equity,
            peak,
        )

    def trip(self, reason: str, equity: Decimal, peak_equity: Decimal) -> KillSwitch:
        """Engage the kill switch now, for ``reason`` (a limit a strategy enforces itself, or
        this manager's drawdown); the switch already engaged when it is.

        From then on :meth:`evaluate_entry` and the pre-trade gate refuse every new exposure,
        :meth:`state` carries it (a restarted bot stays killed) and only :meth:`reset_kill`,
        an operator's decision, clears it."""
        if self._kill is not None:
            return self._kill
        self._kill = KillSwitch(
            reason=reason, equity=equity, peak_equity=peak_equity, at=self._clock.now()
        )
        self._emit(
            "critical",
            "risk kill switch",
            reason=reason,
            equity=str(equity),
            peak_equity=str(peak_equity),
        )
        return self._kill

    def reset_kill(self) -> None:
        """Clear an engaged kill switch (an operator's decision, typically before a restart).

        The peak equity restarts from the last equity seen, so the drawdown is measured afresh
        instead of re-triggering at once.
        """
        if self._kill is None:
            return
        self._emit("warning", "risk kill switch cleared", was=self._kill.reason)
        self._kill = None
        self._peak_equity = self._last_equity

    # ------------------------------------------------------------------ status

    @property
    def config(self) -> RiskConfig:
        """The limits this manager enforces (the pre-trade gate reads the caps from here)."""
        return self._config

    @property
    def killed(self) -> bool:
        """True once the drawdown kill switch fired, until :meth:`reset_kill`."""
        return self._kill is not None

    @property
    def paused_until(self) -> datetime | None:
        """When entries resume, if paused: the later of the daily-loss pause and the cooldown."""
        now = self._clock.now()
        active = [
            t
            for t in (self._daily_pause_until, self._cooldown_until())
            if t is not None and t > now
        ]
        return max(active) if active else None

    def kelly_notional(self, base_notional: Decimal) -> Decimal:
        """Scale ``base_notional`` by fractional Kelly from the recorded trades.

        With win rate p, average win W and average loss L: ``f* = p - (1 - p) / (W / L)`` and the
        result is ``base_notional * clamp(kelly_fraction * f*, 0, 1)``. Trades with zero PnL
        count toward the trade total (lowering p) but not toward either average. Without
        ``kelly_fraction``, with fewer than :data:`MIN_KELLY_TRADES` trades, or with no win or
        no loss yet, ``base_notional`` is returned unchanged.
        """
        fraction = self._kelly_fraction()
        if fraction is None:
            return base_notional
        return _floor_usd(base_notional * fraction)

    # ------------------------------------------------------------------ the check

    def evaluate_entry(self, proposal: EntryProposal, portfolio: PortfolioSnapshot) -> RiskDecision:
        """Check ``proposal`` against every limit, in order; the first failing rule decides.

        Order: kill switch, daily-loss pause, post-loss cooldown, open positions, per-position
        notional, per-venue exposure, total exposure, fractional Kelly. The size caps shrink the
        entry (RESIZE, every venue's share by the same factor) while headroom is left, and
        refuse it (REJECT) when none is.
        """
        decision = self._evaluate(proposal, portfolio)
        if decision.verdict is RiskVerdict.ALLOW:
            # Allowed as asked: the order's own journal row records it; a line only at DEBUG,
            # so the entry path pays nothing for it at the usual levels.
            if _levels.isEnabledFor(logging.DEBUG):
                log.debug("risk decision", **self._decision_fields(proposal, decision))
        elif decision.verdict is RiskVerdict.RESIZE:
            log.info("risk decision", **self._decision_fields(proposal, decision))
        else:
            log.warning("risk decision", **self._decision_fields(proposal, decision))
        return decision

    def _decision_fields(self, proposal: EntryProposal, decision: RiskDecision) -> dict[str, str]:
        return {
            **self._log_context,
            "verdict": decision.verdict.value,
            "reason": decision.reason,
            "strategy": proposal.strategy,
            "symbol": proposal.symbol,
            "requested": str(proposal.notional),
            "allowed": str(decision.allowed_notional),
        }

    def _evaluate(self, proposal: EntryProposal, portfolio: PortfolioSnapshot) -> RiskDecision:
        config = self._config
        now = self._clock.now()
        requested = proposal.notional

        # 1. kill switch
        if self._kill is not None:
            return _refuse(
                RiskVerdict.KILLED,
                f"kill switch engaged at {self._kill.at.isoformat()} ({self._kill.reason}), "
                "no entries until it is cleared (`python -m fleet reset-kill BOT --reason ...`, "
                "Telegram /reset_kill)",
            )

        # 2. daily loss
        self._check_daily_loss(now)
        if self._daily_pause_until is not None:
            if now < self._daily_pause_until:
                return _refuse(RiskVerdict.PAUSED, self._daily_pause_reason())
            self._daily_pause_until = None
            self._daily_pause_loss = None

        # 3. cooldown after a losing trade
        cooldown_until = self._cooldown_until()
        if cooldown_until is not None and now < cooldown_until and self._last_loss_at is not None:
            return _refuse(
                RiskVerdict.PAUSED,
                f"losing trade at {self._last_loss_at.isoformat()}: cooling down "
                f"{config.loss_cooldown_minutes} minutes, no entries until "
                f"{cooldown_until.isoformat()}",
            )

        # 4. open positions
        limit_positions = config.max_open_positions
        if (
            proposal.opens_position
            and limit_positions is not None
            and portfolio.open_positions >= limit_positions
        ):
            return _refuse(
                RiskVerdict.REJECT,
                f"{portfolio.open_positions} positions open already, the limit is "
                f"{limit_positions}",
            )

        allowed = requested
        reason = "within all risk limits"

        # 5. one position's notional
        limit_position = config.max_position_notional_usd
        if limit_position is not None and allowed > limit_position:
            if limit_position <= 0:
                return _refuse(
                    RiskVerdict.REJECT, f"the per-position limit is {_fmt(limit_position)} USD"
                )
            allowed = limit_position
            reason = (
                f"position notional {_fmt(requested)} USD would exceed the "
                f"{_fmt(limit_position)} USD per-position limit; resized to {_fmt(allowed)} USD"
            )

        # 6. per-venue exposure: shrink every share by the factor that makes the tightest fit
        cap_venue = config.max_exposure_per_venue_usd
        if cap_venue is not None:
            for venue, share in sorted(proposal.notional_by_venue.items()):
                if share <= 0:
                    continue
                exposure = abs(portfolio.exposure_by_venue.get(venue, _ZERO))
                headroom = cap_venue - exposure
                if headroom <= 0:
                    return _refuse(
                        RiskVerdict.REJECT,
                        f"{venue} exposure {_fmt(exposure)} USD is already at or above the "
                        f"{_fmt(cap_venue)} USD per-venue cap",
                    )
                fitted = _floor_mul_div(requested, headroom, share)
                if fitted < allowed:
                    reason = (
                        f"{venue} exposure {_fmt(exposure)} + "
                        f"{_fmt(share * allowed / requested)} USD would exceed the "
                        f"{_fmt(cap_venue)} USD per-venue cap; resized to {_fmt(fitted)} USD "
                        "in total"
                    )
                    allowed = fitted
            if allowed <= 0:
                return _refuse(
                    RiskVerdict.REJECT,
                    f"per-venue headroom under the {_fmt(cap_venue)} USD cap is too small "
                    "to open anything",
                )

        # 7. total exposure
        cap_total = config.max_total_exposure_usd
        if cap_total is not None:
            total = portfolio.total_exposure
            if total + allowed > cap_total:
                headroom = cap_total - total
                if headroom <= 0:
                    return _refuse(
                        RiskVerdict.REJECT,
                        f"total exposure {_fmt(total)} USD is already at or above the "
                        f"{_fmt(cap_total)} USD cap",
                    )
                reason = (
                    f"total exposure {_fmt(total)} + {_fmt(allowed)} USD would exceed "
                    f"{_fmt(cap_total)} USD; resized to {_fmt(headroom)} USD"
                )
                allowed = headroom

        # 8. fractional Kelly
        if config.kelly_fraction is not None:
            kelly = self.kelly_notional(requested)
            if kelly <= 0:
                return _refuse(
                    RiskVerdict.REJECT,
                    f"fractional Kelly sizing is 0: no edge in the last {self._stats.count} trades",
                )
            if kelly < allowed:
                allowed = kelly
                reason = (
                    f"fractional Kelly sizing ({_fmt(config.kelly_fraction)} x edge over the "
                    f"last {self._stats.count} trades) allows {_fmt(allowed)} of "
                    f"{_fmt(requested)} USD"
                )

        verdict = RiskVerdict.ALLOW if allowed >= requested else RiskVerdict.RESIZE
        return RiskDecision(verdict=verdict, reason=reason, allowed_notional=allowed)

    # ------------------------------------------------------------------ persistence

    def state(self) -> dict[str, Any]:
        """Everything needed to resume after a restart, JSON-ready.

        Decimals stay :class:`~decimal.Decimal` (serialise with ``json.dumps(..., default=str)``);
        datetimes and dates are ISO strings.
        """
        kill = self._kill
        stats = self._stats
        return {
            "version": _STATE_VERSION,
            "peak_equity": self._peak_equity,
            "last_equity": self._last_equity,
            "day": self._day.isoformat() if self._day else None,
            "day_start_equity": self._day_start_equity,
            "daily_realised_pnl": self._daily_realised_pnl,
            "daily_pause_until": _iso(self._daily_pause_until),
            "daily_pause_loss": self._daily_pause_loss,
            "last_loss_at": _iso(self._last_loss_at),
            "killed": kill is not None,
            "kill": (
                None
                if kill is None
                else {
                    "reason": kill.reason,
                    "equity": kill.equity,
                    "peak_equity": kill.peak_equity,
                    "at": kill.at.isoformat(),
                }
            ),
            "trades": {
                "count": stats.count,
                "wins": stats.wins,
                "losses": stats.losses,
                "sum_wins": stats.sum_wins,
                "sum_losses": stats.sum_losses,
            },
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`state` produced (also after a JSON round trip)."""
        version = state.get("version", _STATE_VERSION)
        if version != _STATE_VERSION:
            raise ValueError(f"unsupported risk state version {version!r}")
        self._peak_equity = _opt_decimal(state.get("peak_equity"))
        self._last_equity = _opt_decimal(state.get("last_equity"))
        day = state.get("day")
        self._day = date.fromisoformat(day) if day else None
        self._day_start_equity = _opt_decimal(state.get("day_start_equity"))
        self._daily_realised_pnl = _opt_decimal(state.get("daily_realised_pnl")) or _ZERO
        self._daily_pause_until = _opt_datetime(state.get("daily_pause_until"))
        self._daily_pause_loss = _opt_decimal(state.get("daily_pause_loss"))
        self._last_loss_at = _opt_datetime(state.get("last_loss_at"))
        kill = state.get("kill")
        if kill:
            self._kill = KillSwitch(
                reason=str(kill["reason"]),
                equity=Decimal(str(kill["equity"])),
                peak_equity=Decimal(str(kill["peak_equity"])),
                at=_parse_datetime(str(kill["at"])),
            )
        elif state.get("killed"):
            self._kill = KillSwitch(
                reason="restored as killed",
                equity=self._last_equity or _ZERO,
                peak_equity=self._peak_equity or _ZERO,
                at=self._clock.now(),
            )
        else:
            self._kill = None
        trades = state.get("trades") or {}
        self._stats = _TradeStats(
            count=int(trades.get("count", 0)),
            wins=int(trades.get("wins", 0)),
            losses=int(trades.get("losses", 0)),
            sum_wins=Decimal(str(trades.get("sum_wins", 0))),
            sum_losses=Decimal(str(trades.get("sum_losses", 0))),
        )
        self._kelly_inactive_logged = False

    # ------------------------------------------------------------------ helpers

    def _emit(self, level: str, event: str, **fields: Any) -> None:
        getattr(log, level)(event, **self._log_context, **fields)

    def _roll_day(self, now: datetime) -> None:
        """Start a new UTC day: its starting equity is the next equity seen."""
        today = now.astimezone(UTC).date()
        if self._day != today:
            self._day = today
            self._day_start_equity = None
            self._daily_realised_pnl = _ZERO

    def _daily_loss(self, now: datetime) -> Decimal | None:
        """Today's loss (day start equity - last equity), or None before today's first equity."""
        if (
            self._day != now.astimezone(UTC).date()
            or self._day_start_equity is None
            or self._last_equity is None
        ):
            return None
        return self._day_start_equity - self._last_equity

    def _check_daily_loss(self, now: datetime) -> None:
        """Engage the pause (until the next 00:00 UTC) when today's loss reached the limit."""
        limit = self._config.daily_loss_limit_usd
        loss = self._daily_loss(now)
        if limit is None or loss is None or loss < limit:
            return
        until = _next_midnight(now)
        if self._daily_pause_until is not None and self._daily_pause_until >= until:
            return
        self._daily_pause_until = until
        self._daily_pause_loss = loss
        self._emit(
            "warning",
            "risk daily loss pause",
            loss=str(loss),
            limit=str(limit),
            until=until.isoformat(),
        )

    def _daily_pause_reason(self) -> str:
        until = self._daily_pause_until
        assert until is not None
        limit = self._config.daily_loss_limit_usd
        loss = self._daily_pause_loss
        seen = f"daily loss {_fmt(loss)} USD" if loss is not None else "the daily loss"
        limit_text = f" {_fmt(limit)} USD" if limit is not None else ""
        return f"{seen} reached the{limit_text} limit; paused until {until.isoformat()}"

    def _cooldown_until(self) -> datetime | None:
        minutes = self._config.loss_cooldown_minutes
        if minutes <= 0 or self._last_loss_at is None:
            return None
        return self._last_loss_at + timedelta(minutes=minutes)

    def _kelly_fraction(self) -> Decimal | None:
        """``clamp(kelly_fraction * f*, 0, 1)``, or None when Kelly does not apply (yet)."""
        fraction = self._config.kelly_fraction
        if fraction is None:
            return None
        stats = self._stats
        if stats.count < MIN_KELLY_TRADES or stats.wins == 0 or stats.losses == 0:
            if not self._kelly_inactive_logged:
                self._kelly_inactive_logged = True
                self._emit(
                    "info",
                    "risk kelly sizing inactive",
                    reason=(
                        f"{stats.count} trades recorded ({stats.wins} wins, {stats.losses} "
                        f"losses); Kelly needs {MIN_KELLY_TRADES} with at least one of each"
                    ),
                )
            return None
        p = Decimal(stats.wins) / Decimal(stats.count)
        avg_win = stats.sum_wins / stats.wins
        avg_loss = stats.sum_losses / stats.losses
        f_star = p - (_ONE - p) * avg_loss / avg_win
        return min(max(fraction * f_star, _ZERO), _ONE)


def _refuse(verdict: RiskVerdict, reason: str) -> RiskDecision:
    return RiskDecision(verdict=verdict, reason=reason, allowed_notional=_ZERO)


def _floor_usd(amount: Decimal) -> Decimal:
    """Round down to :data:`_USD_QUANTUM` when finer; exact amounts stay as they are."""
    if _exp(amount) < _exp(_USD_QUANTUM):
        return amount.quantize(_USD_QUANTUM, rounding=ROUND_FLOOR)
    return amount


def _floor_mul_div(a: Decimal, b: Decimal, c: Decimal) -> Decimal:
    """``a * b / c`` for positive operands, rounded down: never above the exact value."""
    with localcontext() as ctx:
        ctx.rounding = ROUND_FLOOR
        quotient = a * b / c
    return _floor_usd(quotient)


def _next_midnight(now: datetime) -> datetime:
    today = now.astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)


def _fmt(amount: Decimal) -> str:
    """A readable amount: no exponent, no trailing zeros, at most 8 decimals."""
    if _exp(amount) < _exp(_USD_QUANTUM):
        amount = amount.quantize(_USD_QUANTUM)
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _exp(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _opt_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"risk state time {text!r} has no timezone")
    return moment.astimezone(UTC)


def _opt_datetime(value: Any) -> datetime | None:
    return None if value is None else _parse_datetime(str(value))
