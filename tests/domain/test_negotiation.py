"""Walk-away / ZOPA / opening offer and payer-exit math: hand calculations in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from parley.domain.negotiation import (
    ExitCase,
    ExitInputs,
    NegotiationInputs,
    analyse,
    exit_case,
    months_before_switch,
)
from parley.domain.value_based import build
from parley.errors import InputError


def test_walk_away_zopa_opening_worked_example() -> None:
    # cost 800,000 x 1.05 = 840,000; BATNA 820,000 -> walk-away 840,000 (cost floor)
    # payer max 1,000,000 -> ZOPA 840,000 .. 1,000,000; opening 840,000 + 0.8 x 160,000 = 968,000
    # Medicare revenue 700,000: walk-away 120.0%, max 142.9%, opening 138.3%
    r = analyse(NegotiationInputs(current_revenue=D(900000), medicare_revenue=D(700000), cost_to_serve=D(800000),
                                  required_margin=D("0.05"), batna_value=D(820000), payer_max_revenue=D(1000000)))
    assert r.walk_away.value == D(840000) and "cost" in r.walk_away.derivation
    assert r.zopa == (D(840000), D(1000000)) and r.zopa_exists
    assert r.opening_offer.value == D("968000.00")
    assert (r.walk_away_percent_of_medicare.value, r.payer_max_percent_of_medicare.value,
            r.opening_offer_percent_of_medicare.value) == (D("120.0"), D("142.9"), D("138.3"))
    assert r.opening_change_vs_current.value == D("68000.00")


def test_above_market_opening_holds_current_terms() -> None:
    """Walk-away 840k, payer max 920k: the formula gives 904k, below today's 1.0M: open at current terms."""
    r = analyse(NegotiationInputs(current_revenue=D(1000000), cost_to_serve=D(800000), required_margin=D("0.05"),
                                  payer_max_revenue=D(920000)))
    assert r.zopa_exists
    assert r.opening_offer.value == D(1000000)
    assert r.opening_change_vs_current.value == D(0)
    assert "904000.00" in r.opening_offer.derivation and "holds current terms" in r.opening_offer.derivation


def test_batna_sets_walk_away_and_cost_per_rvu() -> None:
    # 20,000 RVUs x $40 = 800,000 x 1.0 = 800,000 < BATNA 850,000
    r = analyse(NegotiationInputs(current_revenue=D(900000), cost_per_rvu=D(40), total_rvus=D(20000),
                                  required_margin=D(0), batna_value=D(850000), payer_max_revenue=D(950000)))
    assert r.walk_away.value == D(850000) and "BATNA" in r.walk_away.derivation


def test_empty_zopa_said_so() -> None:
    r = analyse(NegotiationInputs(current_revenue=D(900000), cost_to_serve=D(1000000), payer_max_revenue=D(950000)))
    assert not r.zopa_exists and r.zopa is None and "EMPTY" in r.zopa_note
    assert r.opening_offer.value is None


def test_opening_below_walk_away_refused() -> None:
    with pytest.raises(InputError, match="opening_offer_revenue"):
        analyse(NegotiationInputs(current_revenue=D(1), cost_to_serve=D(1000), payer_max_revenue=D(2000),
                                  opening_offer_revenue=D(900)))


def test_nonsense_inputs() -> None:
    with pytest.raises(InputError, match="current_revenue"):
        build(NegotiationInputs, {"current_revenue": -1}, what="negotiation")
    with pytest.raises(InputError, match="walk_away"):
        analyse(NegotiationInputs(current_revenue=D(1)))
    with pytest.raises(InputError, match="retained_share"):
        build(ExitCase, {"retained_share": "1.2", "retained_payment_ratio": 1}, what="exit")


def test_ma_exit_worked_example() -> None:
    # exit 1 Oct; plan year starts 1 Jan -> 3 months stuck (0.25 of year 1)
    # year 1: revenue 1,200,000; retained 1,200,000 x 0.75 x 0.6 x 0.8 = 432,000
    #   out of network: 1,200,000 x (0.25 x (0.1 + 0.6) + 0.75 x 0.1) x 0.5 = 1,200,000 x 0.25 x 0.5 = 150,000
    #   backfill (1,200,000 - 582,000) x 0.2 x 1.1 = 135,960; admin saved 50,000
    #   net = 432,000 + 150,000 + 135,960 + 50,000 - 1,200,000 = -432,040
    # year 2: retained 1,200,000 x 0.6 x 0.8 = 576,000; OON 1,200,000 x 0.1 x 0.5 = 60,000
    #   backfill (1,200,000 - 636,000) x 0.22 = 124,080; net = 576,000 + 60,000 + 124,080 + 50,000 - 1,200,000 = -389,920
    assert months_before_switch(dt.date(2026, 10, 1), "01-01") == 3
    case = ExitCase(retained_share=D("0.6"), retained_payment_ratio=D("0.8"), out_of_network_share=D("0.1"),
                    out_of_network_ratio=D("0.5"), backfill_share=D("0.2"), backfill_payment_ratio=D("1.1"))
    y1, y2 = exit_case(ExitInputs(current_revenue=D(1200000), admin_cost_saved=D(50000), exit_date=dt.date(2026, 10, 1),
                                  years=2, cases={"base": case}), case)
    assert (y1.retained, y1.out_of_network, y1.backfill, y1.net_change) == (
        D("432000.00"), D("150000.00"), D("135960.00"), D("-432040.00"))
    assert (y2.retained, y2.out_of_network, y2.backfill, y2.net_change) == (
        D("576000.00"), D("60000.00"), D("124080.00"), D("-389920.00"))
