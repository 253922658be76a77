"""The behaviour rules: the intended directions and ranges (scalar rules, applied to a few values each)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectsim.model import behaviour as rules


def _each(fn, values, *args) -> np.ndarray:
    return np.asarray([fn(float(v), *args) for v in values])


def test_response_rises_with_goodwill_and_is_capped():
    p = np.asarray([rules.response_probability(0.3, 1.0, 1.0, float(g), 0.5, 0.95) for g in np.linspace(0, 1, 11)])
    assert np.all(np.diff(p) > 0)
    assert rules.response_probability(0.9, 1.6, 5.0, 1.0, 0.5, 0.95) == 0.95
    assert rules.response_probability(0.3, 1.0, 1.0, 0.5, 0.5, 1.0) == 0.3  # goodwill 0.5 is neutral


def test_goodwill_stays_on_its_scale():
    assert rules.goodwill_after(0.02, -0.08, 1.0) == 0.0
    assert rules.goodwill_after(0.99, 0.05, 2.0) == 1.0
    assert rules.goodwill_after(0.5, -0.03, 2.0) == 0.44


def test_pay_days_and_discount_take_up():
    assert rules.unchased_pay_day(40, 10, -50.0) == 10  # never before issue
    assert rules.unchased_pay_day(40, 10, 6.4) == 46
    assert rules.prompted_pay_day(5, 10, 3.0) == 10  # before due: pay on time
    assert rules.prompted_pay_day(12, 10, 0.0) == 13  # after due: next day at the earliest
    assert rules.discount_take_probability(0.6, 0.01, 0.02) == 0.3
    assert rules.discount_take_probability(0.6, 0.05, 0.02) == 0.6
    assert rules.cents_of(12.345) == 1234 and rules.cents_of(0.0001) == 1


def test_part_payments_and_credit_notes_stay_within_their_ranges():
    p = np.linspace(1e-9, 1 - 1e-9, 101)
    parts = _each(rules.part_payment_fraction, p, 0.5)
    assert abs(parts.min() - 0.3) < 1e-8 and abs(parts.max() - 0.7) < 1e-8 and abs(parts.mean() - 0.5) < 1e-9
    assert _each(rules.part_payment_fraction, p, 0.9).max() <= 0.95
    notes = _each(rules.credit_note_fraction, p, 0.3)
    assert notes.min() >= 0 and notes.max() <= 0.6 + 1e-9
    assert _each(rules.credit_note_fraction, p, 0.8).max() == 1.0


def test_age_factor_halves_every_halflife():
    ages = [-5, 0, 45, 90, 180, 365]
    arr = np.asarray([rules.age_factor(a, 90.0) for a in ages])
    assert arr[0] == arr[1] == 1.0  # no fading before or on the due date
    assert abs(arr[3] - 0.5) < 1e-12 and abs(arr[4] - 0.25) < 1e-12
    assert np.all(np.diff(arr[1:]) < 0)
    assert rules.age_factor(365, 0.0) == 1.0  # half-life 0 switches fading off


def test_set_aside_days_never_below_the_share_and_slower_for_higher_uniforms():
    p = np.linspace(0.001, 0.999, 200)
    arr = np.asarray([rules.set_aside_days(float(x), 0.2, 90.0, 1.2) for x in p])
    assert np.all(arr[p < 0.2] == -1)
    paid = arr[p >= 0.2]
    assert np.all(paid >= 0) and np.all(np.diff(paid) >= 0)  # one uniform: a monotone delay
    assert 60 <= int(np.median(paid)) <= 120  # the median sits near the 90-day setting


# --- contact and goodwill per account ---------------------------------------------------------------------

def test_a_reminder_waits_only_between_contacts_not_on_the_day_of_one():
    assert not rules.contact_waits(10, 10, 7)  # today's contact: it joins
    assert rules.contact_waits(11, 10, 7) and rules.contact_waits(16, 10, 7)
    assert not rules.contact_waits(17, 10, 7)  # the gap has passed
    assert not rules.contact_waits(11, 10, 0)  # no gap asked for


def test_a_contact_costs_and_takes_what_its_dearest_step_does_in_any_order():
    for costs in ([50, 200, 600], [600, 200, 50], [200, 600, 50]):
        so_far = 0
        for k, cost in enumerate(costs):
            so_far += rules.contact_extra_cents(k > 0, cost, so_far)
        assert so_far == 600
    assert rules.contact_extra(True, 5.0, 12.0) == 0.0 and rules.contact_extra(False, 5.0, 12.0) == 5.0


@given(st.lists(st.floats(-0.5, 0.5, allow_nan=False), min_size=1, max_size=8))
def test_within_a_period_goodwill_moves_by_its_worst_loss_and_best_gain_whatever_the_order(changes):
    worst = best = total = 0.0
    for change in changes:
        total += rules.period_goodwill_extra(change, worst, best)
        worst, best = min(worst, change), max(best, change)
    assert total == pytest.approx(min(0.0, *changes) + max(0.0, *changes), abs=1e-12)


def test_an_invoice_s_stake_is_its_share_of_a_usual_month():
    monthly = rules.monthly_purchases(1500.0, 12.0)  # 1,500 a month, in cents
    assert monthly == 150_000.0
    assert rules.stake_factor(37_500, monthly) == 0.25
    assert rules.stake_factor(300_000, monthly) == 2.0
    assert rules.stake_factor(100, 0.0) == 1.0


def test_the_cap_lets_losses_through_up_to_what_is_left_and_gains_always():
    assert rules.capped_goodwill_loss(-0.03, 0.0, 0.1) == -0.03
    assert rules.capped_goodwill_loss(-0.08, 0.05, 0.1) == pytest.approx(-0.05)
    assert rules.capped_goodwill_loss(-0.03, 0.1, 0.1) == 0.0
    assert rules.capped_goodwill_loss(0.02, 0.1, 0.1) == 0.02
    assert rules.cap_used_on(3, 3, 0.04) == 0.04 and rules.cap_used_on(4, 3, 0.04) == 0.0


# --- escalation and disputes (issue 21) -------------------------------------------------------------------

NEVER = 1 << 62


def test_the_debtor_s_own_payment_still_comes_while_the_agency_holds_the_claim():
    # The agency itself fails (uniform above its chance); the debtor meant to pay on day 50: paid then, to the agency.
    assert rules.agency_outcome(10, 0.99, 0.5, 0.5, 1.0, 60.0, 180, 1.0, 50) == (True, 50)
    # ... unless that day is after the agency gives the invoice back.
    assert rules.agency_outcome(10, 0.99, 0.5, 0.5, 1.0, 60.0, 180, 1.0, 400) == (False, 190)
    assert rules.agency_outcome(10, 0.99, 0.5, 0.5, 1.0, 60.0, 180, 1.0, NEVER) == (False, 190)
    # An agency that collects sooner than the debtor would have paid collects on its own day.
    pays, day = rules.agency_outcome(10, 0.01, 0.01, 0.5, 1.0, 60.0, 180, 1.0, 150)
    assert pays and day < 150


def test_the_agency_s_own_effect_fades_with_the_debt_s_age():
    draws = [i / 1000 for i in range(1000)]
    share = {age: sum(rules.agency_outcome(0, p, 0.5, 0.5, 1.0, 60.0, 180, rules.age_factor(age, 90.0), NEVER)[0]
                      for p in draws) / 1000 for age in (0, 90, 180)}
    assert share == {0: 0.5, 90: 0.25, 180: 0.125}


def test_undefended_claims_end_within_weeks_and_defended_ones_after_a_trial():
    assert rules.legal_outcome(100, 0.5, False, NEVER, 45.0, 350.0) == (False, 100 + 1 + int(45 * math.log(2)))
    assert rules.legal_outcome(100, 0.5, True, NEVER, 45.0, 350.0) == (False, 100 + 1 + int(350 * math.log(2)))
    assert rules.legal_outcome(100, 0.5, False, 120, 45.0, 350.0) == (True, 120)  # paid before the judgment
    assert rules.legal_outcome(100, 0.5, True, 120, 45.0, 350.0)[0] is False  # a disputed invoice waits for trial


def test_costs_come_back_in_proportion_to_what_the_court_awarded():
    assert rules.court_fee(200_000, 0.05) == 10_000
    assert rules.costs_recovered(70_000, 0.25, 100_000, 100_000) == 17_500
    assert rules.costs_recovered(70_000, 0.25, 60_000, 100_000) == 10_500
    assert rules.costs_recovered(70_000, 0.25, 0, 0) == 0


def test_clear_terms_prevent_only_disputes_without_merit_and_e_invoicing_any():
    assert not rules.dispute_prevented(0.0, False, False, False, 1.0, 1.0)  # neither lever: never
    assert rules.dispute_prevented(0.4, False, True, False, 0.5, 0.15)
    assert not rules.dispute_prevented(0.4, True, True, False, 0.5, 0.15)  # the customer is right: it disputes
    assert rules.dispute_prevented(0.1, True, False, True, 0.5, 0.15)
    assert not rules.dispute_prevented(0.2, True, False, True, 0.5, 0.15)
    assert rules.dispute_prevented(0.5, False, True, True, 0.5, 0.15)  # 0.15 + 0.85 x 0.5 = 0.575


# --- how long a dispute takes (issue 22) ------------------------------------------------------------------------

def test_a_dispute_without_a_minimum_takes_the_plain_exponential_wait():
    assert rules.dispute_end_day(100, 0.5, 20.0, 0.0) == 100 + 1 + int(20 * math.log(2))
    assert rules.dispute_end_day(100, 0.0, 20.0, 0.0) == 101  # at the earliest the next day


def test_a_minimum_shifts_the_wait_and_no_dispute_ends_before_it():
    assert rules.dispute_end_day(100, 0.5, 20.0, 10.0) == 100 + 1 + int(10 + 20 * math.log(2))
    assert rules.dispute_end_day(100, 0.0, 20.0, 10.0) == 111
    assert rules.dispute_end_day(100, 0.0, 20.0, 10.6) == 111  # whole days: the fraction joins the wait's


@given(st.integers(0, 5000), st.floats(0.0, 0.999999), st.floats(1.0, 365.0), st.floats(0.0, 365.0))
def test_the_resolution_day_is_at_least_the_minimum_after_and_rises_with_it(day, p, mean, minimum):
    end = rules.dispute_end_day(day, p, mean, minimum)
    assert end >= day + 1 + math.floor(minimum)
    assert end >= rules.dispute_end_day(day, p, mean, 0.0)
    assert end <= rules.dispute_end_day(day, p, mean, 0.0) + math.ceil(minimum)
