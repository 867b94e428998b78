"""Funding-arbitrage scan and sizing, checked against arithmetic done by hand.

Unless a test says otherwise: venues alpha/beta/gamma, books 99.99/100.01 (mid 100, spread
0.02 %), taker fee 0.0005, volume 2,000,000 USD, expected hold 80 h (so fees amortise exactly).
"""

from __future__ import annotations

import random
from dataclasses import FrozenInstanceError, fields, replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_clients.types import FundingRate, Market
from strategies.funding_arbitrage.opportunities import (
    Opportunity,
    Rejection,
    ScanResult,
    Sizing,
    VenueQuote,
    scan,
    size_position,
)
from strategies.funding_arbitrage.params import FundingArbitrageParams

D = Decimal


def quote(
    venue: str,
    rate: str,
    interval: str = "8",
    *,
    symbol: str = "BTC",
    bid: str = "99.99",
    ask: str = "100.01",
    fee: str = "0.0005",
    volume: str | None = "2000000",
    open_interest: str | None = None,
) -> VenueQuote:
    return VenueQuote(
        venue=venue,
        symbol=symbol,
        funding=FundingRate(venue, symbol, D(rate), D(interval), next_funding_time=None),
        best_bid=D(bid),
        best_ask=D(ask),
        taker_fee=D(fee),
        volume_24h_usd=None if volume is None else D(volume),
        open_interest_usd=None if open_interest is None else D(open_interest),
    )


def make_params(**overrides: object) -> FundingArbitrageParams:
    data: dict[str, object] = {
        "venues": ["alpha", "beta", "gamma"],
        "target_margin_usd": "100",
        "expected_hold_hours": "80",
    }
    data.update(overrides)
    return FundingArbitrageParams.model_validate(data)


def only_rejection(result: ScanResult) -> Rejection:
    assert result.opportunities == []
    assert len(result.rejected) == 1
    return result.rejected[0]


# --- VenueQuote -------------------------------------------------------------------------------


def test_quote_mid_and_spread() -> None:
    q = quote("alpha", "0.0001", bid="99.9", ask="100.1")
    assert q.mid == D(100)  # (99.9 + 100.1) / 2
    assert q.spread_pct == D("0.2")  # 0.2 / 100 * 100


@pytest.mark.parametrize(
    ("bid", "ask", "message"),
    [
        ("0", "1", "alpha BTC: bad book, bid 0 ask 1"),
        ("101", "100", "alpha BTC: bad book, bid 101 ask 100"),
    ],
)
def test_quote_rejects_a_bad_book(bid: str, ask: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        quote("alpha", "0.0001", bid=bid, ask=ask)


def test_quote_funding_must_match_venue_and_symbol() -> None:
    funding = FundingRate("beta", "BTC", D("0.0001"), D(8), None)
    with pytest.raises(ValueError, match="alpha BTC: funding is for beta BTC"):
        VenueQuote("alpha", "BTC", funding, D(99), D(101), D("0.0005"))


def test_a_read_quote_is_the_constructors() -> None:
    # collect_quotes sets a quote's fields in one go (VenueQuote._read): every field, in the
    # constructor's order, checked the same way.
    funding = FundingRate("alpha", "BTC", D("0.0001"), D(8), None)
    values = ("alpha", "BTC", funding, D(99), D(101), D("0.0005"), D(7), None, D("-0.0001"))
    read = VenueQuote._read(*values)
    built = VenueQuote(*values)
    assert list(vars(read)) == [f.name for f in fields(VenueQuote)]
    assert vars(read) == vars(built)
    assert (read, hash(read), repr(read)) == (built, hash(built), repr(built))
    assert (read.mid, read.spread_pct, read.maker_saving) == (D(100), D(2), D("0.0006"))
    with pytest.raises(FrozenInstanceError):
        read.best_bid = D(1)  # type: ignore[misc]
    bad = [
        (("beta", *values[1:]), "beta BTC: funding is for alpha BTC"),
        ((*values[:3], D(102), *values[4:]), "alpha BTC: bad book, bid 102 ask 101"),
        ((*values[:5], D("-0.1"), *values[6:]), "alpha BTC: taker fee cannot be negative"),
    ]
    for wrong, message in bad:
        for make in (VenueQuote._read, VenueQuote):
            with pytest.raises(ValueError, match=message):
                make(*wrong)


# --- arithmetic ---------------------------------------------------------------------------------


def test_net_apr_by_hand_with_mixed_intervals() -> None:
    # alpha: 0.0001 per 8 h = 0.0000125/h, taker 0.00045
    # beta:  0.0001 per 1 h = 0.0001/h,    taker 0.0005
    # long alpha (cheaper), short beta: gross = 0.0001 - 0.0000125 = 0.0000875/h
    # fees = 2 * (0.00045 + 0.0005) = 0.0019 of one leg's notional
    # amortised over 80 h: 0.0019 / 80 = 0.00002375/h
    # net = 0.0000875 - 0.00002375 = 0.00006375/h
    # APR = 0.00006375 * 8760 * 100 = 55.845 %
    result = scan(
        [quote("alpha", "0.0001", "8", fee="0.00045"), quote("beta", "0.0001", "1")],
        make_params(),
    )
    assert result.rejected == []
    assert result.opportunities == [
        Opportunity(
            symbol="BTC",
            long_venue="alpha",
            short_venue="beta",
            long_hourly_rate=D("0.0000125"),
            short_hourly_rate=D("0.0001"),
            gross_hourly=D("0.0000875"),
            fees_fraction=D("0.0019"),
            net_hourly=D("0.00006375"),
            net_apr_pct=D("55.845"),
            price_divergence_pct=D(0),
            lead_venue="alpha",  # no maker fee reported: nothing saved, the long leg leads
        )
    ]
    assert result.opportunities[0].key == ("BTC", "alpha", "beta")


def test_default_72h_hold_matches_first_principles() -> None:
    # Same pair, hold 72 h: 0.0019 / 72 = 0.0000263888...; computed here from the raw inputs.
    result = scan(
        [quote("alpha", "0.0001", "8", fee="0.00045"), quote("beta", "0.0001", "1")],
        make_params(expected_hold_hours="72"),
    )
    gross = D("0.0001") / D(1) - D("0.0001") / D(8)
    net = gross - D(2) * (D("0.00045") + D("0.0005")) / D(72)
    [opportunity] = result.opportunities
    assert opportunity.net_hourly == net
    assert opportunity.net_apr_pct == net * D(8760) * D(100)
    assert D("53.53") < opportunity.net_apr_pct < D("53.54")  # 0.0000611.../h * 876000


def test_fees_are_amortised_over_the_hold_not_charged_every_interval() -> None:
    # alpha 0.0000125/h, beta 0.0001/h: gross 0.0000875/h = 0.0007 per 8 h interval.
    # Charging the 0.0019 round trip against each 8 h interval would lose 0.0012 every time,
    # yet over an 80 h hold the fees cost 0.00002375/h and the pair nets 55.845 % APR.
    quotes = [quote("alpha", "0.0001", "8", fee="0.00045"), quote("beta", "0.0001", "1")]
    per_interval = D("0.0000875") * 8 - D("0.0019")
    assert per_interval == D("-0.0012")
    [opportunity] = scan(quotes, make_params()).opportunities
    assert opportunity.net_apr_pct == D("55.845")

    # A hold of a single 8 h interval is the "fees every interval" case, and is rejected:
    # net = 0.0000875 - 0.0019 / 8 = -0.00015/h -> -131.4 % APR; gross 76.65 % APR.
    rejection = only_rejection(scan(quotes, make_params(expected_hold_hours="8")))
    assert rejection.reason == (
        "net APR -131.4% < min 10% (gross 76.65% APR, round-trip fees 0.19% amortised over 8 h)"
    )


# --- direction ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reverse", [False, True])
def test_long_where_funding_is_lower_even_when_negative(reverse: bool) -> None:
    # alpha -0.0002/8 h = -0.000025/h (longs are paid), beta 0.0001/8 h = 0.0000125/h
    # -> long alpha, short beta; gross = 0.0000125 + 0.000025 = 0.0000375/h
    # fees 2 * (0.0005 + 0.0005) = 0.002 / 80 = 0.000025/h; net 0.0000125/h
    # APR = 0.0000125 * 876000 = 10.95 %
    quotes = [quote("alpha", "-0.0002"), quote("beta", "0.0001")]
    if reverse:
        quotes.reverse()
    [opportunity] = scan(quotes, make_params()).opportunities
    assert (opportunity.long_venue, opportunity.short_venue) == ("alpha", "beta")
    assert opportunity.gross_hourly == D("0.0000375")
    assert opportunity.net_apr_pct == D("10.95")


def test_short_venue_may_sort_first() -> None:
    # alpha pays more (0.0008/8 h = 0.0001/h) than beta (0), so short alpha, long beta.
    [opportunity] = scan(
        [quote("alpha", "0.0008"), quote("beta", "0")], make_params()
    ).opportunities
    assert opportunity.key == ("BTC", "beta", "alpha")
    assert opportunity.gross_hourly == D("0.0001")


def test_zero_spread_is_rejected() -> None:
    # 0.0001 per 8 h and 0.0000125 per 1 h are the same hourly rate.
    result = scan([quote("alpha", "0.0001", "8"), quote("beta", "0.0000125", "1")], make_params())
    assert only_rejection(result) == Rejection(
        "BTC", "alpha", "beta", "no funding spread: both venues at 0.0000125/h"
    )


# --- filters ------------------------------------------------------------------------------------

# Profitable base pair: alpha 0 vs beta 0.0008/8 h: gross 0.0001/h, fees 0.002/80 = 0.000025/h,
# net 0.000075/h = 65.7 % APR. Each test below breaks one filter.


def profitable_pair(**beta: Any) -> list[VenueQuote]:
    return [quote("alpha", "0"), quote("beta", "0.0008", **beta)]


def test_base_pair_is_accepted() -> None:
    [opportunity] = scan(profitable_pair(), make_params()).opportunities
    assert opportunity.net_apr_pct == D("65.7")


def test_volume_filter() -> None:
    rejection = only_rejection(scan(profitable_pair(volume="500000"), make_params()))
    assert rejection.reason == "24h volume on beta 500,000 USD < min 1,000,000 USD"
    # Exactly the minimum passes.
    assert scan(profitable_pair(volume="1000000"), make_params()).opportunities


def test_open_interest_filter() -> None:
    params = make_params(min_open_interest_usd="250000")
    quotes = [
        quote("alpha", "0", open_interest="250000"),  # exactly the minimum passes
        quote("beta", "0.0008", open_interest="100000.5"),
    ]
    rejection = only_rejection(scan(quotes, params))
    assert rejection.reason == "open interest on beta 100,000.50 USD < min 250,000 USD"


def test_bid_ask_spread_filter() -> None:
    # beta 99.9/100.1: spread 0.2 / 100 * 100 = 0.2 % > 0.1 %
    rejection = only_rejection(scan(profitable_pair(bid="99.9", ask="100.1"), make_params()))
    assert rejection.reason == "bid/ask spread on beta 0.2% (bid 99.9 ask 100.1) > max 0.1%"


def test_price_divergence_filter() -> None:
    # mids 100.00 and 100.60: |diff| 0.6 / average 100.3 * 100 = 0.598205...% > 0.5 %
    # (beta spread 0.02 / 100.6 = 0.0199 % stays under the spread limit)
    rejection = only_rejection(scan(profitable_pair(bid="100.59", ask="100.61"), make_params()))
    assert rejection.reason == (
        "price divergence 0.5982% (mid 100.00 on alpha vs 100.60 on beta) > max 0.5%"
    )


def test_price_divergence_is_reported_when_accepted() -> None:
    # mids 99.8 and 100.2: 0.4 / 100 * 100 = 0.4 % <= 0.5 %
    quotes = [
        quote("alpha", "0", bid="99.79", ask="99.81"),
        quote("beta", "0.0008", bid="100.19", ask="100.21"),
    ]
    [opportunity] = scan(quotes, make_params()).opportunities
    assert opportunity.price_divergence_pct == D("0.4")


def test_min_net_apr_filter() -> None:
    # 65.7 % net APR (see above) against a 70 % minimum; gross 0.0001 * 876000 = 87.6 %
    rejection = only_rejection(scan(profitable_pair(), make_params(min_net_apr_pct="70")))
    assert rejection.reason == (
        "net APR 65.7% < min 70% (gross 87.6% APR, round-trip fees 0.2% amortised over 80 h)"
    )


def test_zero_net_is_rejected_even_with_zero_minimum() -> None:
    # gross 0.000025/h (0.0002 per 8 h) exactly pays the 0.002 / 80 = 0.000025/h of fees.
    quotes = [quote("alpha", "0"), quote("beta", "0.0002")]
    rejection = only_rejection(scan(quotes, make_params(min_net_apr_pct="0")))
    assert rejection.reason == (
        "net APR 0% is not positive (gross 21.9% APR, round-trip fees 0.2% amortised over 80 h)"
    )


def test_every_failing_filter_is_listed() -> None:
    rejection = only_rejection(
        scan(profitable_pair(volume="10", bid="99.9", ask="100.1"), make_params())
    )
    assert rejection.reason == (
        "24h volume on beta 10 USD < min 1,000,000 USD; "
        "bid/ask spread on beta 0.2% (bid 99.9 ask 100.1) > max 0.1%"
    )


def test_unknown_volume_refuses_the_pair_when_the_filter_is_set() -> None:
    rejection = only_rejection(scan(profitable_pair(volume=None), make_params()))
    assert rejection.reason == (
        "24h volume not reported by beta: cannot check min 1,000,000 USD "
        "(set min_volume_24h_usd: 0 to trade without it)"
    )
    # Nothing to check when the filter is off.
    [opportunity] = scan(
        profitable_pair(volume=None), make_params(min_volume_24h_usd="0")
    ).opportunities
    assert opportunity.notes == ()


def test_unknown_open_interest_refuses_the_pair_only_when_the_filter_is_on() -> None:
    assert scan(profitable_pair(), make_params()).opportunities
    params = make_params(min_open_interest_usd="1")
    rejection = only_rejection(
        scan([quote("alpha", "0", open_interest="5"), quote("beta", "0.0008")], params)
    )
    assert rejection.reason == (
        "open interest not reported by beta: cannot check min 1 USD "
        "(set min_open_interest_usd: 0 to trade without it)"
    )


# --- maker fees, mandatory venue, wide spreads ---------------------------------------------


def test_maker_entries_charge_the_lead_its_maker_fee() -> None:
    # alpha saves 0.0005 - 0.0001 = 0.0004 by resting, beta 0.0005 - 0.0003: alpha leads.
    quotes = [
        replace(quote("alpha", "0"), maker_fee=D("0.0001")),
        replace(quote("beta", "0.0008"), maker_fee=D("0.0003")),
    ]
    [taker] = scan(quotes, make_params()).opportunities
    [maker] = scan(quotes, make_params(), maker=True).opportunities
    assert taker.fees_fraction == D("0.002")  # 2 x (0.0005 + 0.0005)
    assert maker.fees_fraction == D("0.0012")  # 2 x (0.0001 maker alpha + 0.0005 taker beta)
    assert maker.lead_venue == "alpha"
    # 0.0001/h gross - 0.0012 / 80 h = 0.000085/h = 74.46 % APR (taker: 65.7 %)
    assert maker.net_apr_pct == D("74.46")
    assert maker.net_apr_pct > taker.net_apr_pct


def test_the_short_leg_leads_when_it_saves_more() -> None:
    quotes = [
        replace(quote("alpha", "0"), maker_fee=D("0.0004")),
        replace(quote("beta", "0.0008"), maker_fee=D("-0.0001")),  # a rebate
    ]
    [maker] = scan(quotes, make_params(), maker=True).opportunities
    assert maker.lead_venue == "beta"
    assert maker.fees_fraction == D("0.0008")  # 2 x (-0.0001 + 0.0005)


def test_unknown_maker_fee_is_charged_as_taker_and_noted() -> None:
    [maker] = scan(profitable_pair(), make_params(), maker=True).opportunities
    assert maker.fees_fraction == D("0.002")
    assert maker.notes == ("maker fee not reported by alpha: taker fee assumed",)


def test_mandatory_venue_refuses_pairs_without_it() -> None:
    quotes = [quote("alpha", "0"), quote("beta", "0.0008"), quote("gamma", "0.0004")]
    result = scan(quotes, make_params(mandatory_venue="gamma"))
    assert {o.key for o in result.opportunities} == {
        ("BTC", "gamma", "beta"),
        ("BTC", "alpha", "gamma"),
    }
    [refused] = result.rejected
    assert (refused.long_venue, refused.short_venue) == ("alpha", "beta")
    assert refused.reason == "no leg on the mandatory venue gamma"
    # without it, alpha/beta (the widest spread) ranks first
    assert scan(quotes, make_params()).opportunities[0].key == ("BTC", "alpha", "beta")


def test_wide_spread_venues_are_named_on_the_rejection() -> None:
    rejection = only_rejection(scan(profitable_pair(bid="99.9", ask="100.1"), make_params()))
    assert rejection.wide_spread_venues == ("beta",)
    rejection = only_rejection(scan(profitable_pair(volume="1"), make_params()))
    assert rejection.wide_spread_venues == ()


# --- universe -----------------------------------------------------------------------------------


def test_symbol_filter_and_single_venue_symbols() -> None:
    quotes = [
        *profitable_pair(),
        quote("alpha", "0", symbol="ETH"),
        quote("beta", "0.0008", symbol="ETH"),
        quote("alpha", "0", symbol="SOL"),  # one venue only: no pair, not reported
    ]
    everything = scan(quotes, make_params())
    assert [o.symbol for o in everything.opportunities] == ["BTC", "ETH"]
    assert everything.rejected == []

    only_eth = scan(quotes, make_params(symbols=["eth"]))
    assert [o.key for o in only_eth.opportunities] == [("ETH", "alpha", "beta")]
    assert only_eth.rejected == []


def test_venues_outside_params_are_ignored() -> None:
    quotes = [*profitable_pair(), quote("delta", "0.01")]
    [opportunity] = scan(quotes, make_params()).opportunities
    assert opportunity.key == ("BTC", "alpha", "beta")


def test_duplicate_quotes_are_an_error() -> None:
    with pytest.raises(ValueError, match="two quotes for BTC on alpha"):
        scan([quote("alpha", "0"), quote("alpha", "0.0001")], make_params())


# --- ranking ------------------------------------------------------------------------------------


def test_ranking_by_apr_then_divergence_then_key() -> None:
    # Three venues on BTC: alpha 0 (mid 100), beta 0.0008/8 h and gamma 0.0004/8 h (mids 100.1).
    #   alpha->beta  gross 0.0001/h  net 0.0001 - 0.000025 = 0.000075/h = 65.7 %, divergence
    #                0.1 / 100.05 > 0
    #   gamma->beta  gross 0.00005/h net 0.000025/h = 21.9 %, divergence 0
    #   alpha->gamma gross 0.00005/h net 0.000025/h = 21.9 %, divergence > 0
    # AAA and ETH: alpha->beta at equal mids, 65.7 % with divergence 0.
    # Expected: the 65.7 % group first; inside it divergence 0 (AAA, ETH by key) before BTC;
    # then gamma->beta before alpha->gamma although its key sorts later (divergence wins).
    quotes = [
        quote("alpha", "0"),
        quote("beta", "0.0008", bid="100.09", ask="100.11"),
        quote("gamma", "0.0004", bid="100.09", ask="100.11"),
        quote("alpha", "0", symbol="ETH"),
        quote("beta", "0.0008", symbol="ETH"),
        quote("alpha", "0", symbol="AAA"),
        quote("beta", "0.0008", symbol="AAA"),
    ]
    result = scan(quotes, make_params())
    assert [(o.key, o.net_apr_pct) for o in result.opportunities] == [
        (("AAA", "alpha", "beta"), D("65.7")),
        (("ETH", "alpha", "beta"), D("65.7")),
        (("BTC", "alpha", "beta"), D("65.7")),
        (("BTC", "gamma", "beta"), D("21.9")),
        (("BTC", "alpha", "gamma"), D("21.9")),
    ]
    divergence = D("0.1") / D("100.05") * 100  # |100 - 100.1| / average mid * 100
    assert [o.price_divergence_pct for o in result.opportunities] == [
        0,
        0,
        divergence,
        0,
        divergence,
    ]

    random.Random(7).shuffle(quotes)
    assert scan(quotes, make_params()) == result


def test_scanned_opportunities_are_what_the_constructor_builds() -> None:
    # The scan sets an opportunity's fields in one go (Opportunity._priced): every field, in
    # the constructor's order, so it equals, hashes and prints as the constructor's would.
    quotes = [
        quote("alpha", "0"),
        quote("beta", "0.0008", bid="100.09", ask="100.11"),
        quote("gamma", "0.0004", bid="100.09", ask="100.11"),
    ]
    for maker in (False, True):
        opportunities = scan(quotes, make_params(), maker=maker).opportunities
        assert len(opportunities) == 3
        for scanned in opportunities:
            built = Opportunity(**{f.name: getattr(scanned, f.name) for f in fields(Opportunity)})
            assert list(vars(scanned)) == [f.name for f in fields(Opportunity)]
            assert vars(scanned) == vars(built)
            assert (scanned, hash(scanned), repr(scanned)) == (built, hash(built), repr(built))
            with pytest.raises(FrozenInstanceError):
                scanned.net_apr_pct = D(0)  # type: ignore[misc]


# --- property -----------------------------------------------------------------------------------

quote_inputs = st.lists(
    st.tuples(
        st.sampled_from(["BTC", "ETH"]),
        st.sampled_from(["alpha", "beta", "gamma"]),
        st.integers(-20, 20),  # rate in 0.0001 units
        st.sampled_from(["1", "4", "8"]),
        st.integers(-25, 25),  # mid offset in 0.01
        st.integers(0, 12),  # spread in 0.01 (over 0.1 % now and then)
        st.sampled_from(["0.0002", "0.00035", "0.0005"]),
        st.sampled_from([None, "500000", "5000000", "9000000"]),
    ),
    unique_by=lambda t: (t[0], t[1]),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(inputs=quote_inputs, order=st.randoms(use_true_random=False))
def test_scan_is_ranked_complete_and_order_independent(
    inputs: list[tuple[str, str, int, str, int, int, str, str | None]], order: random.Random
) -> None:
    quotes = []
    for symbol, venue, rate, interval, offset, spread, fee, volume in inputs:
        bid = D(100) + D(offset) / 100
        quotes.append(
            quote(
                venue,
                str(D(rate) / 10_000),
                interval,
                symbol=symbol,
                bid=str(bid),
                ask=str(bid + D(spread) / 100),
                fee=fee,
                volume=volume,
            )
        )
    params = make_params(min_net_apr_pct="5")
    result = scan(quotes, params)

    aprs = [o.net_apr_pct for o in result.opportunities]
    assert aprs == sorted(aprs, reverse=True)
    # the documented order, written as one key (the scan sorts twice, stably)
    assert result.opportunities == sorted(
        result.opportunities, key=lambda o: (-o.net_apr_pct, o.price_divergence_pct, o.key)
    )
    assert result.rejected == sorted(
        result.rejected, key=lambda r: (r.symbol, r.long_venue, r.short_venue)
    )
    for o in result.opportunities:
        assert o.long_hourly_rate < o.short_hourly_rate
        assert o.net_apr_pct >= params.min_net_apr_pct
    venues_per_symbol: dict[str, int] = {}
    for symbol, *_ in inputs:
        venues_per_symbol[symbol] = venues_per_symbol.get(symbol, 0) + 1
    pairs = sum(n * (n - 1) // 2 for n in venues_per_symbol.values())
    assert len(result.opportunities) + len(result.rejected) == pairs

    shuffled = list(quotes)
    order.shuffle(shuffled)
    assert scan(shuffled, params) == result


# --- sizing -------------------------------------------------------------------------------------


def market(
    step: str, *, max_leverage: str = "50", min_size: str = "0", min_notional: str = "0"
) -> Market:
    return Market(
        symbol="BTC",
        contract_id="BTC-PERP",
        tick_size=D("0.01"),
        step_size=D(step),
        min_size=D(min_size),
        min_notional=D(min_notional),
        max_leverage=D(max_leverage),
    )


def sizing_setup(
    alpha_market: Market | None = None, beta_market: Market | None = None, **params: object
) -> Sizing:
    # alpha mid 100, beta mid 100.2; long alpha, short beta.
    quotes = [quote("alpha", "0"), quote("beta", "0.0008", bid="100.19", ask="100.21")]
    scan_params = make_params(**params)
    [opportunity] = scan(quotes, scan_params).opportunities
    markets = {
        "alpha": alpha_market or market("0.01", max_leverage="50"),
        "beta": beta_market or market("0.004", max_leverage="20"),
    }
    return size_position(opportunity, {q.venue: q for q in quotes}, markets, scan_params)


def test_size_uses_capped_leverage_higher_mid_and_common_step() -> None:
    # leverage = min(3 (param), 50, 20) = 3; notional per leg = 100 * 3 = 300 USD
    # size = 300 / 100.2 (higher mid) = 2.99401...; common step of 0.01 and 0.004 = 0.02
    # 2.99401 / 0.02 = 149.7 -> 149 steps = 2.98 (alpha alone would allow 2.99, beta 2.992)
    assert sizing_setup() == Sizing(size=D("2.98"), leverage=D(3), notional_per_leg=D(300))


def test_leverage_capped_by_the_market_below_the_param() -> None:
    # min(10, 50, 5) = 5; notional 500; 500 / 100.2 = 4.99001... -> 249 * 0.02 = 4.98
    sizing = sizing_setup(beta_market=market("0.004", max_leverage="5"), max_leverage="10")
    assert sizing == Sizing(size=D("4.98"), leverage=D(5), notional_per_leg=D(500))


def test_size_zero_below_min_size() -> None:
    sizing = sizing_setup(beta_market=market("0.004", max_leverage="20", min_size="3"))
    assert sizing == Sizing(D(0), D(3), D(300), "size 2.98 BTC < min 3 on beta")


def test_size_zero_below_min_notional() -> None:
    # 2.98 * 100 (alpha mid) = 298 USD < 300 USD
    sizing = sizing_setup(alpha_market=market("0.01", min_notional="300"))
    assert sizing == Sizing(D(0), D(3), D(300), "notional 298 USD < min 300 USD on alpha")


def test_size_zero_when_it_rounds_to_nothing() -> None:
    # 300 / 100.2 = 2.994 < one common step of 10 (steps 5 and 2)
    sizing = sizing_setup(alpha_market=market("5"), beta_market=market("2"))
    assert sizing.size == 0
    assert sizing == Sizing(
        D(0), D(3), D(300), "size rounds to 0: 2.994 BTC is less than the common step 10"
    )


def test_size_needs_every_venue() -> None:
    quotes = profitable_pair()
    params = make_params()
    [opportunity] = scan(quotes, params).opportunities
    with pytest.raises(ValueError, match="no market for beta"):
        size_position(opportunity, {q.venue: q for q in quotes}, {"alpha": market("1")}, params)


def test_a_scan_result_reads_like_the_frozen_lists_it_stands_for() -> None:
    """The rejections are made when first read: the result still compares, prints and
    refuses changes as a frozen dataclass of the two lists does."""
    quotes = [quote("alpha", "0.0001"), quote("beta", "0.0001"), quote("gamma", "0.0009")]
    result = scan(quotes, make_params())
    eager = ScanResult(opportunities=list(result.opportunities), rejected=list(result.rejected))
    assert result == eager
    assert scan(list(reversed(quotes)), make_params()) == eager
    assert (
        repr(result)
        == repr(eager)
        == (f"ScanResult(opportunities={result.opportunities!r}, rejected={result.rejected!r})")
    )
    assert [(r.long_venue, r.short_venue, r.reason) for r in result.rejected] == [
        ("alpha", "beta", "no funding spread: both venues at 0.0000125/h")
    ]
    assert result.rejected is result.rejected  # made once
    assert result != ScanResult(opportunities=result.opportunities, rejected=[])
    with pytest.raises(FrozenInstanceError):
        result.opportunities = []
    with pytest.raises(FrozenInstanceError):
        del result.opportunities
    with pytest.raises(TypeError):
        hash(result)


@settings(max_examples=300, deadline=None)
@given(
    coefficient=st.integers(-(10**34), 10**34),
    exponent=st.integers(-40, 10),
)
def test_net_apr_is_written_as_per_hour_times_8760_times_100(
    coefficient: int, exponent: int
) -> None:
    """The scan multiplies once by 876000: the same digits as the two steps it stands for."""
    hourly = D(coefficient).scaleb(exponent)
    quotes = [
        quote("alpha", "0", "1"),
        replace(quote("beta", "0", "1"), funding=FundingRate("beta", "BTC", hourly, D(1), None)),
    ]
    for outcome in scan(quotes, make_params(min_net_apr_pct="0")).opportunities:
        assert str(outcome.net_apr_pct) == str(outcome.net_hourly * D(8760) * D(100))
