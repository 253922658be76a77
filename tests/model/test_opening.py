"""Starting from an open ledger: the conditional payment day, the opening book, and runs that start from it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectsim import cut_ledger, from_open_ledger, parse_scenario, simulate
from collectsim.calibration.calibrate import ledger_segments
from collectsim.calibration.ledger import Ledger, LedgerError
from collectsim.model import behaviour as rules
from collectsim.model.draws import Purpose, u
from helpers import small_data, small_history

_ASIDE = (30.0, 0.3, 0.8)  # set-aside median days, never share, sigma
_NO_STEPS = (np.zeros(0, dtype=np.int64), np.zeros(0))


def _uniforms(key: int) -> np.ndarray:
    steps = np.arange(6 * rules.OPEN_PAY_TRIES, dtype=np.int64)
    return u(11, Purpose.OPEN_PAY_DAY, key, 0, steps).reshape(rules.OPEN_PAY_TRIES, 6)


def _open_day(as_of: int, key: int, habit: float = 5.0, ignore: float = 0.1, steps=_NO_STEPS,
              on_due: float = 0.0) -> int:
    return rules.open_pay_day(as_of, 0, 30, habit, 6.0, rules.HEALTHY, 15.0, ignore, on_due, _uniforms(key),
                              *_ASIDE, steps[0], steps[1], 0.0, 3.0)


@settings(max_examples=200, deadline=None)
@given(as_of=st.integers(0, 400), key=st.integers(0, 10**6), habit=st.floats(-20, 60), ignore=st.floats(0, 1))
def test_an_open_invoice_is_never_paid_before_the_as_of_day(as_of, key, habit, ignore):
    assert _open_day(as_of, key, habit, ignore) >= as_of


def _assert_is_the_free_draw_kept_from(drawn, free, as_of: int) -> None:
    """``drawn`` pays like the unconditional days ``free`` that fall on or after ``as_of`` (quartile, median and the
    share never paid of its own accord)."""
    free = np.array(free)
    kept = free[free >= as_of]
    for q in (0.25, 0.5):
        assert abs(np.quantile(drawn, q) - np.quantile(kept, q)) <= 2
    never = lambda x: np.mean(x == rules.NO_PAY_DAY)  # noqa: E731
    assert abs(never(drawn) - never(kept)) < 0.04


def test_the_payment_day_is_the_unconditional_one_given_that_it_is_not_before_as_of():
    """Rejection gives exactly the conditional distribution: compare with unconditional draws filtered on it."""
    as_of = 38  # 8 days past due, a habit of 5 days late: most invoices would have been paid by now
    conditional = np.array([_open_day(as_of, k) for k in range(3000)])
    free = []
    for k in range(20000):
        p = u(12, Purpose.OPEN_PAY_DAY, k, 0, np.arange(4, dtype=np.int64))
        free.append(rules.unchased_day(0, 30, 5.0, 6.0, rules.HEALTHY, 15.0, 0.0, 0.1, 0.0, p[0], p[3], p[1], p[2],
                                       *_ASIDE))
    _assert_is_the_free_draw_kept_from(conditional, free, as_of)


def test_a_customer_that_schedules_payments_for_the_due_date_does_so_for_an_open_invoice_not_yet_due():
    """The due-date spike of the segment carries over to the opening book: an invoice not yet due at as-of is paid
    on its due date (day 30) in about the share of the spike plus the chance of lateness landing there; one already
    overdue at as-of cannot be."""
    not_due = np.array([_open_day(20, k, habit=8.0, on_due=0.5) for k in range(2000)])
    without = np.array([_open_day(20, k, habit=8.0) for k in range(2000)])
    assert np.mean(not_due == 30) > np.mean(without == 30) + 0.35
    overdue = np.array([_open_day(35, k, habit=8.0, on_due=0.5) for k in range(500)])
    assert np.all(overdue >= 35)


def test_past_reminders_can_leave_a_payment_due_in_the_first_days():
    """A reminder that moved the customer just before as-of brings the payment after it; none sent, none pending."""
    steps = (np.array([-3, 7, 21], dtype=np.int64), np.array([0.9, 0.9, 0.9]))
    chased = np.array([_open_day(52, k, habit=40.0, ignore=0.0, steps=steps) for k in range(400)])
    unchased = np.array([_open_day(52, k, habit=40.0, ignore=0.0) for k in range(400)])
    assert np.mean(chased <= 55) > np.mean(unchased <= 55) + 0.2


def test_a_past_reminder_dated_while_the_invoice_was_in_dispute_moved_nobody():
    """Steps dated from the day a dispute was raised to the day before it was resolved are paused (or, sent, find
    the invoice disputed): the first step outside that window is the one that moves a sure responder."""
    steps = np.array([-3, 7, 21], dtype=np.int64)  # days 27, 37 and 51 for an invoice due on day 30
    sure = np.ones(3)

    def moved_on(disputed_from: int, disputed_until: int) -> int:
        pay = rules.past_reminders_pay_day(60, 0, 30, steps, sure, 0.0, 0.5, 0.0, 0.0, disputed_from, disputed_until)
        return pay - 1 if pay > 30 else 27  # a step after the due date brings the payment the next day (no delay)

    assert moved_on(0, 0) == 27  # never disputed: the first step
    assert moved_on(10, 27) == 27  # resolved on the step's day (before the day's reviews): sent, and it worked
    assert moved_on(10, 28) == 37  # in dispute on day 27
    assert moved_on(27, 40) == 51  # raised on the step's day (before the day's reviews), resolved after day 37
    assert rules.past_reminders_pay_day(60, 0, 30, steps, sure, 0.0, 0.5, 0.0, 0.0, 5, 60) == rules.NO_PAY_DAY


def test_a_flagged_invoice_whose_dispute_covered_the_reminder_keeps_its_own_day():
    """A sure-fire reminder on day 20 (before the due date) makes a customer pay on the due date (day 30), long
    before as-of (day 90): an undisputed invoice open at as-of was never so moved, and no try survives. A dispute
    raised by day 14 and lasting 20 days on average mostly covers day 20 and has ended by day 90: such a flagged
    invoice is paid on its own day (about 60 days late), out of dispute."""
    steps = (np.array([-10], dtype=np.int64), np.ones(1))

    def pay(key: int, flagged: bool) -> tuple[int, int]:
        disputes = u(11, Purpose.OPEN_DISPUTE, key, 0, np.arange(3 * rules.OPEN_PAY_TRIES, dtype=np.int64))
        return rules.open_pay_and_resolve_day(
            90, 0, 30, 60.0, 6.0, rules.HEALTHY, 15.0, 0.0, 0.0, _uniforms(key), *_ASIDE, *steps, 0.0, 3.0, 0.0,
            14.0, None, disputes.reshape(rules.OPEN_PAY_TRIES, 3) if flagged else None, 14, 20.0)

    assert all(p == rules.NO_PAY_DAY for p, _ in (pay(k, False) for k in range(100)))
    flagged = [pay(k, True) for k in range(300)]
    ended = [p for p, r in flagged if r == rules.NO_PAY_DAY and p != rules.NO_PAY_DAY]
    assert len(ended) > 0.8 * len(flagged)
    assert 85 <= np.median(ended) <= 100  # its own day, about 60 days late, on or after as-of


def _part_uniforms(key: int) -> np.ndarray:
    steps = np.arange(2 * rules.OPEN_PAY_TRIES * rules.OPEN_PART_CHAIN, dtype=np.int64)
    return u(11, Purpose.OPEN_PART_PAYMENT, key, 0, steps).reshape(rules.OPEN_PAY_TRIES, 2 * rules.OPEN_PART_CHAIN)


def test_an_invoice_the_ledger_shows_open_may_have_been_paid_in_part_and_then_its_rest_comes_soon():
    """With part payments, "open in the ledger" is "not paid in full": compare with unconditional invoices whose
    first payment is in part with chance 0.4 and whose rest follows a geometric gap (mean 10 days), filtered on
    not being paid in full before as-of, as the engines pay them."""
    as_of, share, gap = 45, 0.4, 10.0  # 15 days past due, a habit of 5 days late: most would be paid by now

    def conditional(key):
        return rules.open_pay_day(as_of, 0, 30, 5.0, 6.0, rules.HEALTHY, 15.0, 0.1, 0.0, _uniforms(key), *_ASIDE,
                                  *_NO_STEPS, 0.0, 3.0, share, gap, _part_uniforms(key))

    drawn = np.array([conditional(k) for k in range(3000)])
    assert (drawn >= as_of).all()
    free = []
    for k in range(30000):
        p = u(12, Purpose.OPEN_PAY_DAY, k, 0, np.arange(4 + 2 * 20, dtype=np.int64))
        day = rules.unchased_day(0, 30, 5.0, 6.0, rules.HEALTHY, 15.0, 0.0, 0.1, 0.0, p[0], p[3], p[1], p[2], *_ASIDE)
        m = 0
        while day < as_of and p[4 + 2 * m] < share:
            day += rules.geometric_days(p[5 + 2 * m], gap)
            m += 1
        free.append(day)
    _assert_is_the_free_draw_kept_from(drawn, free, as_of)
    without = np.array([_open_day(as_of, k) for k in range(3000)])
    soon = lambda x: np.mean(x < as_of + 14)  # noqa: E731
    assert soon(drawn) > soon(without) + 0.1  # the rests of unseen part payments come in the first two weeks


def _flagged(as_of: int, key: int) -> tuple[int, int]:
    disputes = u(11, Purpose.OPEN_DISPUTE, key, 0, np.arange(3 * rules.OPEN_PAY_TRIES, dtype=np.int64))
    return rules.open_pay_and_resolve_day(as_of, 0, 30, 5.0, 6.0, rules.HEALTHY, 15.0, 0.1, 0.0, _uniforms(key),
                                          *_ASIDE, *_NO_STEPS, 0.0, 3.0, 0.0, 14.0, None,
                                          disputes.reshape(rules.OPEN_PAY_TRIES, 3), 14, 20.0)


def test_a_flagged_dispute_may_have_ended_before_as_of_the_longer_ago_the_likelier():
    """A dispute is raised within 14 days of issue and lasts 20 days on average: on day 10 a flagged invoice is
    mostly still in dispute; on day 120 its dispute has most likely ended (the invoice is open for another reason),
    and a still-running one ends after as-of. Every payment is on or after as-of."""
    young = [_flagged(10, k) for k in range(400)]
    old = [_flagged(120, k) for k in range(400)]
    in_dispute = lambda runs: np.mean([r != rules.NO_PAY_DAY for _, r in runs])  # noqa: E731
    assert in_dispute(young) > 0.7
    assert in_dispute(old) < 0.2
    assert all(r >= 120 for _, r in old if r != rules.NO_PAY_DAY)
    assert all(p >= a for a, runs in ((10, young), (120, old)) for p, _ in runs)
    unflagged = [rules.open_pay_and_resolve_day(120, 0, 30, 5.0, 6.0, rules.HEALTHY, 15.0, 0.1, 0.0, _uniforms(k),
                                                *_ASIDE, *_NO_STEPS, 0.0, 3.0) for k in range(50)]
    assert all(r == rules.NO_PAY_DAY for _, r in unflagged)
    assert [p for p, _ in unflagged] == [_open_day(120, k) for k in range(50)]


def test_when_every_try_falls_before_as_of_the_invoice_is_set_aside_for_good():
    assert _open_day(4000, 1, habit=0.0, ignore=0.0) == rules.NO_PAY_DAY


@pytest.fixture(scope="module")
def history():
    return small_history(seed=3, days=300)


def test_the_opening_book_holds_the_ledgers_customers_and_open_invoices(history):
    scenario, ledger = history
    opened = from_open_ledger(scenario, ledger, measured_days=60)
    book = opened.opening
    frame = ledger.frame
    assert book.invoices == int(frame["paid_date"].isna().sum())
    assert book.customers == frame["customer_id"].nunique()
    assert [s.customers for s in opened.portfolio.segments] == np.bincount(book.segment).tolist()
    groups = ledger_segments(frame)
    names = [s.name for s in scenario.portfolio.segments]
    assert [names[s] for s in book.segment] == [groups[c] for c in book.customer_ids]
    assert opened.horizon.start_date + dt.timedelta(days=book.day) == ledger.as_of + dt.timedelta(days=1)
    assert book.issue_day.min() == 0 and opened.horizon.measured_start == book.day
    assert book.balance.sum() == frame.loc[frame["paid_date"].isna(), "amount_cents"].sum()


def _ledger(rows: list[tuple[str, int, int | None]]) -> Ledger:
    """A ledger of (customer, days late or None when open) rows in one segment, due 30 days after issue."""
    day0 = pd.Timestamp("2025-01-01")
    issue = [day0 + pd.Timedelta(days=3 * k) for k in range(len(rows))]
    frame = pd.DataFrame({
        "customer_id": [r[0] for r in rows], "invoice_id": [f"I{k}" for k in range(len(rows))],
        "issue_date": issue, "due_date": [d + pd.Timedelta(days=30) for d in issue],
        "paid_date": [pd.NaT if r[1] is None else d + pd.Timedelta(days=30 + r[1]) for r, d in zip(rows, issue)],
        "amount_cents": 100_000, "disputed": False, "segment": "steady"})
    return Ledger(frame, frame.iloc[0:0], "test", dt.date(2025, 12, 31), "iso", len(frame))


def test_a_customers_habit_is_shrunk_toward_its_segment_by_how_few_invoices_it_has():
    data = small_data()
    data["portfolio"]["segments"] = data["portfolio"]["segments"][:1]
    data["portfolio"]["segments"][0].update(days_late_mean=6.0, days_late_sd_between=4.0, days_late_sd_within=8.0)
    scenario = parse_scenario(data)
    rows = [("many", 20)] * 10 + [("one", 20), ("none", None)]
    rows += [("typical", 0)] * 30 + [("many", None)]
    book = from_open_ledger(scenario, _ledger(rows)).opening
    habit = dict(zip(book.customer_ids, book.habit))
    # the segment's ledger median is 0 days late; tau^2 = 16, sigma^2 = 64
    assert habit["none"] == pytest.approx(6.0)
    assert habit["one"] == pytest.approx(6.0 + 16 / (16 + 64) * 20)
    assert habit["many"] == pytest.approx(6.0 + 10 * 16 / (10 * 16 + 64) * 20)
    assert habit["typical"] == pytest.approx(6.0)
    spread = dict(zip(book.customer_ids, book.habit_sd))  # the posterior's: tau for none, narrower with more
    assert spread["none"] == pytest.approx(4.0)
    assert spread["one"] == pytest.approx(np.sqrt(16 * 64 / (16 + 64)))
    assert spread["many"] == pytest.approx(np.sqrt(16 * 64 / (10 * 16 + 64)))


def test_each_run_draws_an_opening_customers_habit_from_its_posterior():
    """The forecast does not know a customer's habit exactly, as a replication of the truth would not: each seed
    draws it around the book's habit with the book's spread."""
    from collectsim.model.portfolio import make_customers

    data = small_data()
    data["portfolio"]["segments"] = data["portfolio"]["segments"][:1]
    data["portfolio"]["segments"][0].update(days_late_mean=6.0, days_late_sd_between=4.0, days_late_sd_within=8.0)
    scenario = parse_scenario(data)
    rows = [("many", 20)] * 10 + [("one", 20), ("none", None)] + [("typical", 0)] * 30
    opened = from_open_ledger(scenario, _ledger(rows))
    book = opened.opening
    habits = np.array([make_customers(opened, seed).habit_days_late[:book.customers] for seed in range(400)])
    np.testing.assert_allclose(habits.mean(axis=0), book.habit, atol=0.6)
    np.testing.assert_allclose(habits.std(axis=0), book.habit_sd, rtol=0.15)


def test_a_run_from_the_open_ledger_starts_on_the_as_of_day(history):
    scenario, ledger = history
    opened = from_open_ledger(scenario, ledger, measured_days=90, runoff_days=60)
    start, book = opened.opening.day, opened.opening
    result = simulate(opened, "ladder", seed=1)  # conservation is checked inside
    ev = result.events.to_frame()
    before = ev[ev["day"] < start]  # nothing happens in the warm-up (it only dates the open invoices) but the
    assert (before["kind"] == "churned").all() and (before["day"] == start - 1).all()  # churn of customers gone
    assert before["customer"].lt(book.customers).all()  # before as-of, on the as-of day
    inv = result.invoices.to_frame()
    assert (inv["issue_day"].iloc[:book.invoices].to_numpy() == book.issue_day).all()
    assert (inv["issue_day"].iloc[book.invoices:] >= start).all()  # new sales from the as-of day on
    assert (inv["amount"].iloc[:book.invoices].to_numpy() == book.balance).all()
    paid_open = ev[(ev["kind"] == "payment") & (ev["invoice"] < book.invoices)]
    assert len(paid_open) > 0 and paid_open["day"].min() >= start
    disputed = np.flatnonzero(book.disputed)
    raised = ev[(ev["kind"] == "dispute_raised") & ev["invoice"].isin(disputed)]
    assert len(raised) == 0  # they start disputed; no dispute is raised again
    resolved = ev[(ev["kind"] == "dispute_resolved") & ev["invoice"].isin(disputed)]
    assert len(resolved) > 0
    refused_or_onboarded = ev["kind"].isin(["customer_onboarded", "customer_refused"])
    assert not ev[refused_or_onboarded]["customer"].lt(book.customers).any()  # no opening customer re-applies


def test_the_ladder_goes_on_from_the_next_step_after_as_of(history):
    scenario, ledger = history
    opened = from_open_ledger(scenario, ledger, measured_days=60, runoff_days=0)
    book = opened.opening
    result = simulate(opened, "ladder", seed=2)
    ev = result.events.to_frame()
    reminders = ev[(ev["kind"] == "reminder") & (ev["invoice"] < book.invoices)]
    offsets = reminders["day"].to_numpy() - book.due_day[reminders["invoice"].to_numpy()]
    assert set(offsets.tolist()) <= {-3, 7, 21}  # the ladder's own days, none replayed on the as-of day
    first = reminders.groupby("invoice")["day"].min()
    assert (first >= book.day).all()


def test_the_open_invoices_payment_days_do_not_depend_on_the_policy(history):
    """Common random numbers: the opening state is drawn from the seed and the scenario, not the policy."""
    from collectsim.model.liquidity import liquidity_paths
    from collectsim.model.opening import O_PAY_DAY, opening_invoices
    from collectsim.model.portfolio import make_customers

    scenario, ledger = history
    opened = from_open_ledger(scenario, ledger, measured_days=30, runoff_days=0)
    customers = make_customers(opened, 3)
    table = opening_invoices(opened, 3, customers.segment, customers.habit_days_late,
                             liquidity_paths(opened, 3, customers.segment))
    assert (table[:, O_PAY_DAY] >= opened.opening.day).all()
    other = opened.with_policies(opened.policies[0].with_values({"reminders.steps.0.offset": 2}))
    again = opening_invoices(other, 3, customers.segment, customers.habit_days_late,
                             liquidity_paths(other, 3, customers.segment))
    np.testing.assert_array_equal(table, again)


def test_a_cut_ledger_forgets_what_happened_after_the_cut(history):
    scenario, ledger = history
    at = ledger.as_of - dt.timedelta(days=50)
    cut = cut_ledger(ledger, at)
    assert cut.as_of == at and (cut.frame["issue_date"] <= pd.Timestamp(at)).all()
    assert (cut.frame["paid_date"].dropna() <= pd.Timestamp(at)).all()
    reopened = cut.frame["paid_date"].isna().sum()
    assert reopened > ledger.frame.loc[ledger.frame["issue_date"] <= pd.Timestamp(at), "paid_date"].isna().sum()
    direct = from_open_ledger(scenario, ledger, as_of=at).opening
    assert direct.invoices == reopened  # as_of on the full ledger is the same cut


def test_a_customer_in_a_segment_the_scenario_lacks_is_one_line_error(history):
    scenario, ledger = history
    segments = {c: "nowhere" for c in ledger.frame["customer_id"].unique()}
    with pytest.raises(LedgerError, match="nowhere"):
        from_open_ledger(scenario, ledger, segments=segments)


def test_opening_customers_start_with_what_the_ledger_shows_of_their_past():
    """A policy target selects a ledger customer from the first day by its history (as the plan reads it), not as
    a newcomer: the late payer's new invoices get the firm call at once; without the history they would not."""
    from dataclasses import replace

    data = small_data()
    data["portfolio"]["segments"] = data["portfolio"]["segments"][:1]
    # no churn: in this made-up ledger the customers last ordered months before as-of, and would be drawn as gone
    data["portfolio"]["segments"][0].update(orders_per_year=24.0, churn_per_year=0.0)
    data["policies"] = {"targeted": {
        "reminders": {"steps": [{"offset": 5, "channel": "email", "tone": "friendly"}]},
        "targets": [{"name": "late", "when": {"recent_days_late_min": 15},
                     "reminders": {"steps": [{"offset": 1, "channel": "phone", "tone": "firm"}]}}]}}
    scenario = parse_scenario(data)
    rows = [("late", 20)] * 6 + [("prompt", 0)] * 6 + [("late", None), ("prompt", None)]
    opened = from_open_ledger(scenario, _ledger(rows), measured_days=120, runoff_days=30)
    book = opened.opening
    mine = dict(zip(book.customer_ids, range(book.customers)))
    assert book.paid_count[mine["late"]] == 6 and (book.late_ring[mine["late"]] == 20).all()
    assert book.paid_count[mine["prompt"]] == 6 and (book.late_ring[mine["prompt"]] == 0).all()
    assert book.since[mine["late"]] < 0  # its first invoice was issued before day 0 (the oldest open one's)
    forgotten = opened.with_opening(replace(book, since=None, paid_count=None, last_dispute=None, late_ring=None))

    def calls(scn, engine):
        ev = simulate(scn, "targeted", seed=2, engine=engine).events.to_frame()
        reminders = ev[(ev["kind"] == "reminder") & (ev["day"] < book.day + 60)]
        return {who: reminders.loc[reminders["customer"] == c, "channel"].tolist() for who, c in mine.items()}

    for engine in ("simpy", "compiled"):
        seen = calls(opened, engine)
        assert "phone" in seen["late"] and "phone" not in seen["prompt"], seen
        assert "phone" not in calls(forgotten, engine)["late"]  # a newcomer until it pays in the run
