"""Sizing: equity x risk_pct at the stop distance, half-Kelly for low-confidence signals."""

from __future__ import annotations

from decimal import Decimal

from strategies.signal_portfolio.sizing import SizingRules, TradeRecord, size_entry

D = Decimal
RULES = SizingRules(
    risk_pct=D(1),
    stop_loss_pct=D(2),
    min_confidence=D("0.5"),
    full_size_confidence=D("0.75"),
    kelly_min_trades=10,
)


def record(wins: int, win: str, losses: int, loss: str) -> TradeRecord:
    made = TradeRecord()
    for _ in range(wins):
        made.add(D(win))
    for _ in range(losses):
        made.add(-D(loss))
    return made


def test_a_confident_signal_risks_risk_pct_of_equity_at_the_stop() -> None:
    sizing = size_entry(RULES, D(10_000), D(50_000), D("0.8"), TradeRecord())
    # 100 USD at risk / (50,000 x 2 %) = 0.1 BTC: the stop loses exactly 100 USD
    assert sizing.quantity == D("0.1")
    assert sizing.quantity * D(50_000) * D("0.02") == D(100)
    assert sizing.scale == 1


def test_below_min_confidence_nothing() -> None:
    sizing = size_entry(RULES, D(10_000), D(50_000), D("0.49"), TradeRecord())
    assert sizing.quantity == 0
    assert sizing.reason == "confidence 0.49 below min_confidence 0.5"


def test_low_confidence_without_history_scales_with_confidence() -> None:
    sizing = size_entry(RULES, D(10_000), D(50_000), D("0.6"), record(3, "10", 2, "5"))
    assert sizing.scale == D("0.6") / D("0.75")
    assert sizing.quantity == D("0.1") * D("0.8")


def test_low_confidence_with_history_uses_half_kelly() -> None:
    history = record(6, "20", 4, "10")  # p 0.6, payoff 2: f* = 0.6 - 0.4 / 2 = 0.4
    assert history.half_kelly() == D("0.2")
    sizing = size_entry(RULES, D(10_000), D(50_000), D("0.6"), history)
    assert sizing.scale == D("0.2")
    assert sizing.quantity == D("0.02")
    confident = size_entry(RULES, D(10_000), D(50_000), D("0.9"), history)
    assert confident.scale == 1  # full size above full_size_confidence


def test_no_edge_means_no_low_confidence_entries() -> None:
    losing = record(3, "10", 7, "10")  # p 0.3, payoff 1: f* < 0
    assert losing.half_kelly() == 0
    sizing = size_entry(RULES, D(10_000), D(50_000), D("0.6"), losing)
    assert sizing.quantity == 0
    assert "no edge" in sizing.reason


def test_the_record_survives_a_round_trip() -> None:
    history = record(2, "1.5", 1, "0.5")
    assert TradeRecord.from_json(history.to_json()) == history
