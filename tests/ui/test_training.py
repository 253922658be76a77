"""The collector's desk: every story and every action reach the engine through the decision interface."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

import collectsim
from collectsim.apps.dashboard import resize
from collectsim.apps.desk_score import HORIZON_DAYS, RELATIONSHIP_DAYS, account_value, relationship_cost
from collectsim.apps.training import (
    DESK_SEGMENTS,
    MIN_FOLLOW_DAYS,
    STORIES,
    Desk,
    DeskDecider,
    _balance_on,
    _disputed_since,
    _FutureEngine,
    desk_scenario,
)
from collectsim.config.schema import as_raw
from collectsim.model.decisions import Action, ActionKind
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.eventlog import EventKind
from helpers import SCENARIOS

ISSUE_STORIES = {"cash-strained", "admin-heavy", "disputed", "waiting-on-its-customer", "seasonal", "late-on-purpose"}
#: the event each kind of action leaves on the desk day
EVENT_OF = {ActionKind.REMIND: EventKind.REMINDER, ActionKind.OFFER_PLAN: EventKind.PLAN_OFFERED,
            ActionKind.OFFER_SETTLEMENT: EventKind.SETTLEMENT_OFFERED, ActionKind.MEDIATE: EventKind.MEDIATION,
            ActionKind.PLACE_WITH_AGENCY: EventKind.AGENCY_PLACED, ActionKind.FILE_LEGAL: EventKind.LEGAL_FILED}
ACTION_EVENTS = list(EVENT_OF.values())


@pytest.fixture(scope="module")
def baseline():
    # 80 customers: with 60 the admin-heavy segment had 6, none with an undisputed invoice 10+ days overdue on the
    # desk day once the model changed (2026-12-07); the stories need a portfolio big enough to hold each of them.
    return resize(collectsim.load_scenario(SCENARIOS / "baseline.toml"), 80, 90, 365)


@pytest.fixture(scope="module")
def desk(baseline):
    return Desk(baseline, "as-is", seed=3, futures=3)  # few futures: these tests check the mechanics, not the ranking


def test_desk_scenario_adds_the_story_segments_and_follows_plans_to_their_end(baseline):
    short = resize(baseline, runoff_days=10)
    day = short.horizon.measured_start + 300
    sc = desk_scenario(short, day)
    names = [s.name for s in sc.portfolio.segments]
    assert names[:len(short.portfolio.segments)] == [s.name for s in short.portfolio.segments]
    assert set(names) - {s.name for s in short.portfolio.segments} == {s["name"] for s in DESK_SEGMENTS}
    seasonal = sc.portfolio.segments[names.index("seasonal")]
    assert seasonal.seasonality == 1.0
    assert seasonal.seasonal_peak_month == (sc.horizon.start_date + dt.timedelta(days=day)).month
    h = sc.horizon
    assert h.warmup_days + h.measured_days + h.runoff_days == day + MIN_FOLLOW_DAYS
    assert desk_scenario(sc, day).portfolio.segments == sc.portfolio.segments  # not added twice


def test_queue_has_every_story_the_issue_asks_for_each_open_on_the_desk_day(desk):
    keys = [c.story_key for c in desk.cases]
    assert len(keys) == len(set(keys)) and set(keys) <= set(STORIES)
    assert ISSUE_STORIES <= set(keys)
    names = [s.name for s in desk.scenario.portfolio.segments]
    inv = desk.base.invoices
    for c in desk.cases:
        row = int(np.flatnonzero((inv["customer"] == c.customer) & (inv["seq"] == c.seq))[0])
        assert c.balance == _balance_on(desk.base, row, desk.day) > 0
        since = _disputed_since(desk.base, row, desk.day)
        if c.story_key == "disputed":
            assert 0 <= since < desk.day and c.disputed_days == desk.day - since
            assert c.recommended == ("mediation" if c.disputed_days >= 30 else "wait")
        else:
            assert since == -1 and c.days_overdue >= 10 and c.segment == c.story_key
            assert names.index(c.segment) == inv["segment"][row]
        assert c.recommended in desk.choices and len(c.why) > 40


@pytest.mark.parametrize("story", sorted(ISSUE_STORIES | {"habitually-late", "prompt"}))
def test_every_action_on_every_story_is_taken_through_the_engine_on_the_desk_day(desk, story):
    case = next((c for c in desk.cases if c.story_key == story), None)
    if case is None:
        assert story == "prompt"  # prompt payers rarely have an invoice 10 days overdue
        return
    base = desk.base.events
    for choice, actions in desk.choices.items():
        result, row = desk.run(case, choice)
        ev = result.events
        assert (np.diff(ev["day"]) >= 0).all(), choice  # nothing is handled on a day already gone
        today = (ev["invoice"] == row) & (ev["day"] == desk.day) & np.isin(ev["kind"], ACTION_EVENTS)
        expected = sorted(EVENT_OF[a.kind] for a in actions if a.kind in EVENT_OF
                          and (a.kind is not ActionKind.MEDIATE or case.disputed_days >= 0))
        assert sorted(ev["kind"][today]) == expected, choice
        for a in actions:
            if a.kind is ActionKind.REMIND:
                hit = today & (ev["kind"] == EventKind.REMINDER)
                assert ev["channel"][hit][0] == a.channel and ev["tone"][hit][0] == a.tone
        if any(a.kind is ActionKind.OFFER_DISCOUNT for a in actions):
            taken = (ev["invoice"] == row) & (ev["kind"] == EventKind.DISCOUNT)
            if taken.any():  # the discount only when paid within its window, at its rate
                assert desk.day <= ev["day"][taken][0] <= desk.day + 10
                assert ev["amount"][taken][0] == round(0.03 * case.amount)
        before = ev["day"] < desk.day
        assert np.array_equal(ev["amount"][before], base["amount"][base["day"] < desk.day])


def test_mediation_without_a_dispute_does_nothing_and_says_so(desk):
    case = next(c for c in desk.cases if c.disputed_days < 0)
    out, wait = desk.outcome(case, "mediation"), desk.outcome(case, "wait")
    assert "no dispute to mediate" in out["note"]
    assert {k: v for k, v in out.items() if k not in ("choice", "note")} == \
        {k: v for k, v in wait.items() if k not in ("choice", "note")}


def test_score_is_the_paired_difference_with_waiting_and_adds_up_term_by_term(desk):
    for case in desk.cases:
        assert desk.outcome(case, "wait")["score"] == 0
        for choice in ("final notice", "legal action"):
            o = desk.outcome(case, choice)
            terms = o["score: cash"] - o["score: costs"] + o["score: plan"] - o["score: relationship"]
            assert o["score"] == pytest.approx(terms, abs=0.03)
            mine, wait = desk.values(case, choice), desk.values(case, "wait")
            assert o["score"] == pytest.approx(np.mean([a.value - w.value for a, w in zip(mine, wait)]) / 100, abs=0.01)


def test_the_first_future_is_the_desks_own_run_and_every_future_shares_its_past(desk):
    case = next(c for c in desk.cases if c.story_key == "cash-strained")
    result, row = desk.run(case, "firm call")
    first = account_value(desk.scenario, result.invoices, result.events, result.customers.goodwill_baseline, row,
                          desk.day)
    values = desk.values(case, "firm call")
    assert values[0] == first and len(values) == len(desk.future_seeds) == 3
    decider = DeskDecider(RuleBasedPolicy(desk.spec, desk.scenario), case.customer, case.seq, desk.day,
                          desk.choices["firm call"])
    _, _, events, _ = _FutureEngine(desk.scenario, decider, desk.seed, desk.future_seeds[1]).run()
    before, base = events["day"] < desk.day, result.events["day"] < desk.day
    for column in ("kind", "customer", "invoice", "amount", "cost"):
        assert np.array_equal(events[column][before], result.events[column][base]), column
    assert values[1] != values[0] or values[2] != values[0]  # the futures differ after the desk day


def test_each_future_redraws_when_the_account_is_paid_unchased_and_the_same_seed_gives_the_same(desk):
    """The desk account's own payment day and response threshold are drawn again in each future but the desk's own,
    given that it is unpaid on the desk day and not moved by a reminder so far (issue 21: they were fixed at issue,
    so every future paid it on the same day whatever was done)."""
    case = next(c for c in desk.cases if c.story_key == "late-on-purpose")
    seen = []

    def engine(future_seed):
        decider = DeskDecider(RuleBasedPolicy(desk.spec, desk.scenario), case.customer, case.seq, desk.day, ())
        eng = _FutureEngine(desk.scenario, decider, desk.seed, future_seed)
        redraw = eng._redraw_intentions

        def watched(inv, day):
            unmoved = inv.unmoved
            redraw(inv, day)
            seen.append((future_seed, inv.pay_day, inv.u_response, unmoved))
        eng._redraw_intentions = watched
        return eng.run()

    runs = [engine(s) for s in desk.future_seeds]
    assert [s for s, *_ in seen] == desk.future_seeds[1:]  # the desk's own run keeps its draws
    assert all(pay > desk.day and 0 <= threshold < unmoved for _, pay, threshold, unmoved in seen)
    assert len({pay for _, pay, *_ in seen}) == len(seen)  # the futures differ
    waited = [v.days_to_settle for v in desk.values(case, "wait")]
    assert len(set(waited)) > 1 and min(waited) >= 1
    again = engine(desk.future_seeds[1])
    for column in ("day", "kind", "invoice", "amount"):
        assert np.array_equal(again[2][column], runs[1][2][column]), column


def test_the_relationship_term_is_zero_at_baseline_and_grows_with_lost_goodwill(desk):
    seg = 0
    baseline = 0.7
    flat = np.full(RELATIONSHIP_DAYS, baseline)
    assert relationship_cost(desk.scenario, seg, baseline, flat)[:2] == (0.0, 0.0)
    tau = desk.scenario.behaviour.goodwill_recovery_days
    t = np.arange(RELATIONSHIP_DAYS)
    small, large = (baseline - gap * np.exp(-t / tau) for gap in (0.05, 0.2))
    churn_s, orders_s, _ = relationship_cost(desk.scenario, seg, baseline, small)
    churn_l, orders_l, _ = relationship_cost(desk.scenario, seg, baseline, large)
    assert 0 < churn_s < churn_l and 0 < orders_s < orders_l
    churn_up, orders_up, _ = relationship_cost(desk.scenario, seg, baseline, baseline + (small - baseline) * -1)
    assert churn_up < 0 and orders_up < 0  # goodwill above baseline is worth something too


def test_an_agreed_plan_still_running_at_the_horizon_is_valued_at_its_expected_recovery(desk):
    case = next(c for c in desk.cases if c.story_key == "waiting-on-its-customer")
    phone = round(100 * desk.scenario.economics.cost_phone)
    desk.choices["very long plan"] = (Action.offer_plan("phone", phone, 12, 60, 0.0, 12),)  # runs past a year
    try:
        result, row = desk.run(case, "very long plan")
        value = desk.values(case, "very long plan")[0]
    finally:
        del desk.choices["very long plan"]
    ev = result.events
    mine = ev["invoice"] == row
    assert np.any(mine & (ev["kind"] == EventKind.PLAN_AGREED))
    assert not np.any(mine & (ev["kind"] == EventKind.PLAN_DEFAULTED) & (ev["day"] < desk.day + HORIZON_DAYS))
    assert value.open_at_horizon > 0
    reliability = desk.scenario.portfolio.segments[int(result.invoices["segment"][row])].instalment_reliability
    rate = desk.scenario.economics.cost_of_capital
    assert value.plan == pytest.approx(value.open_at_horizon * reliability * (1 + rate) ** -(HORIZON_DAYS / 365))


def test_a_defaulted_plan_is_not_valued_and_the_note_says_why(baseline):
    raw = as_raw(baseline)
    raw.pop("include_policies", None)
    for seg in raw["portfolio"]["segments"]:
        seg["instalment_reliability"] = 0.0  # every plan breaks
    raw["policies"] = {p.name: as_raw(p) for p in baseline.policies}
    desk = Desk(collectsim.parse_scenario(raw), "as-is", seed=3, futures=2)
    case = next(c for c in desk.cases if c.story_key == "cash-strained")
    result, row = desk.run(case, "offer a plan")
    ev = result.events
    o = desk.outcome(case, "offer a plan")
    assert np.any((ev["invoice"] == row) & (ev["kind"] == EventKind.PLAN_DEFAULTED))
    assert o["open in a performing plan, expected"] == 0 and "the plan defaulted in" in o["note"]
    # After the default the rest may still be paid (chased, or of the customer's own accord) or stay open.
    still_open = any(v.open_at_horizon > 0 for v in desk.values(case, "offer a plan"))
    assert ("still open a year on" in o["note"]) == still_open


def test_the_trainees_action_is_taken_on_the_desk_day_and_nothing_else_changes_before(desk):
    case = next(c for c in desk.cases if c.story_key == "habitually-late")
    action = Action.remind("phone", "final", 600)
    decider = DeskDecider(RuleBasedPolicy(desk.spec, desk.scenario), case.customer, case.seq, desk.day, (action,))
    result = collectsim.simulate(desk.scenario, desk.spec, desk.seed, decider=decider)
    inv, ev = result.invoices, result.events
    row = int(np.flatnonzero((inv["customer"] == case.customer) & (inv["seq"] == case.seq))[0])
    taken = (ev["invoice"] == row) & (ev["day"] == desk.day) & (ev["kind"] == EventKind.REMINDER)
    assert taken.sum() == 1 and ev["tone"][taken][0] == 2 and ev["channel"][taken][0] == 2


def test_outcomes_differ_by_choice_and_the_playbook_choice_is_shown_beside(desk):
    case = next(c for c in desk.cases if c.story_key == "cash-strained")
    table = desk.compare(case, "legal action")
    assert list(table.index) == ["legal action", case.recommended]
    # the lawyer's 600 and the court fee, less the share a judgment makes the debtor repay
    recoverable = desk.spec.escalation.costs_recoverable
    assert table.loc["legal action", "action and escalation costs"] >= 600 * (1 - recoverable)
    assert table.loc["legal action", "customer's goodwill a month on"] < table.loc[case.recommended,
                                                                                    "customer's goodwill a month on"]
    assert table.loc["legal action", "score: relationship"] > table.loc[case.recommended, "score: relationship"]


def test_unknown_choice_is_refused(desk):
    with pytest.raises(ValueError, match="unknown choice"):
        desk.outcome(desk.cases[0], "shout")


def test_a_round_scores_each_account_once_and_shows_the_answers_only_at_its_end(desk, tmp_path):
    from collectsim.apps.training import Round

    r = Round(desk, "Ada", accounts=2)
    first = r.act("firm call")
    again = r.act("wait")  # a replay: shown, not counted
    assert r.total == first["score"] and len(r.turns) == 1 and again["choice"] == "wait"
    with pytest.raises(RuntimeError, match="when the round ends: 1 of 2"):
        r.answer_sheet()
    assert r.next() and not r.finished
    second = r.act(r.case.recommended)
    assert r.finished and not r.next()
    assert r.total == pytest.approx(first["score"] + second["score"])
    sheet = r.answer_sheet()
    assert list(sheet["choice"]) == ["firm call", r.case.recommended]
    assert sheet["playbook_score"].iloc[1] == sheet["score"].iloc[1]  # the playbook's choice, scored the same
    assert sheet["playbook_choice"].iloc[0] == r.cases[0].recommended and sheet["why"].iloc[0] == r.cases[0].why
    path = r.write_csv(tmp_path / "ada.csv")
    written = pd.read_csv(path)
    assert list(written["trainee"]) == ["Ada", "Ada"] and list(written["score"]) == list(sheet["score"])


def test_the_score_explanation_adds_up_to_the_score(desk):
    from collectsim.apps.training import score_explained

    case = desk.cases[0]
    outcome = desk.outcome(case, "firm call")
    text = score_explained(outcome, case.balance, "EUR")
    parts = [float(x.replace(",", "")) for x in re.findall(r" ([+-][\d,]+\.\d\d)", text)]
    assert len(parts) == 5  # cash, costs, plan, relationship; the score
    assert sum(parts[:4]) == pytest.approx(outcome["score"], abs=0.03) and parts[4] == outcome["score"]
    assert "EUR" in text and "leaving" in text


def test_desk_widget_plays_a_round_one_account_at_a_time(desk, tmp_path):
    pytest.importorskip("ipywidgets")
    from collectsim.apps.training import DeskWidget

    ui = DeskWidget(desk, "Ada", accounts=2)
    first_story = ui.story.value
    assert "account 1 of 2" in ui.progress.value and ui.next_button.disabled and ui.export.disabled
    ui.choice.value = "firm call"
    ui.act.click()
    assert "firm call" in ui.result.value and "How the score is made" in ui.result.value and ui.turns == 1
    assert "Playbook" not in ui.result.value and ui.sheet.value == ""  # no answers during the round
    ui.next_button.click()
    assert ui.story.value != first_story and "account 2 of 2" in ui.progress.value and ui.result.value == ""
    ui.act.click()
    assert "Round over" in ui.sheet.value and not ui.export.disabled
    path = ui.save(tmp_path)
    assert path.name == "desk-Ada.csv" and len(pd.read_csv(path)) == 2


#: The law's ceiling on what a creditor may collect on a late invoice (Directive 2011/7/EU, docs/sources.md): the
#: principal, statutory interest at the reference rate + 8 points from the due date, and EUR 40 fixed compensation.
STATUTORY_MARGIN, FIXED_COMPENSATION_CENTS = 0.08, 4000


def _within_the_law(desk, case, value) -> bool:
    days = case.days_overdue + max(value.last_cash_day, 0)
    interest = case.amount * (desk.scenario.economics.reference_rate + STATUTORY_MARGIN) * days / 365
    return (value.principal <= case.balance and value.fees <= FIXED_COMPENSATION_CENTS + interest + 1
            and value.costs_recovered <= value.costs_paid)


def test_escalation_never_collects_more_than_the_invoice_and_what_the_law_adds(desk):
    for case in desk.cases:
        for choice in ("collection agency", "legal action"):
            assert all(_within_the_law(desk, case, v) for v in desk.values(case, choice)), (case.story_key, choice)


@pytest.fixture(scope="module")
def full_desk(baseline):
    return Desk(baseline, "as-is", seed=3)  # FUTURES futures, as the notebook's desk


#: Relative tolerance: the playbook's choice may score this share of the open balance below the best choice.
TOLERANCE_SHARE = 0.01

#: story -> why the playbook's choice does not rank within the tolerance on this desk (measured; strict xfail).
#: Measured 2026-12-07 on this desk (seed 3, day 150, 8 futures, unlimited team) once each future but the desk's own
#: redraws the account's own payment day and response threshold (see collectsim.apps.training, "What the futures
#: keep"). Before that, habitually-late and waiting-on-its-customer failed too: their payment day was drawn at issue
#: and the same in every future (habitually-late paid 4 days on whatever was done; waiting-on-its-customer never paid
#: unchased and a friendly call moved it in all 8 futures). Now habitually-late passes within the futures' noise
#: (friendly email 46.77 below offer a plan, tolerance 50.15) and waiting-on-its-customer ranks the plan first.
XFAIL_STORIES: dict[str, str] = {
    "late-on-purpose": "the model's tone response is the same for every segment (behaviour.tone_response: firm x1.3 "
                       "for everyone), so a bad-faith customer is not more moved by firmness than others and a firm "
                       "call's small gain in cash (+2.89 against waiting, friendly call +2.70) is outweighed by the "
                       "goodwill it costs (relationship +7.92 against -10.15): firm call -5.28 +/- 13.04, 18.15 "
                       "below offer a plan (+12.87 +/- 17.44) and 17.63 below a friendly call (+12.35 +/- 4.20), "
                       "tolerance 17.89. The playbook's premise is not in the model, not a fault of the score",
}


def _story(story: str):
    reason = XFAIL_STORIES.get(story)
    return pytest.param(story, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else story


def _case(desk, story: str):
    case = next((c for c in desk.cases if c.story_key == story), None)
    if case is None:
        pytest.skip(f"no {story} account overdue on this desk day")  # prompt payers are rarely 10 days overdue
    return case


@pytest.mark.slow
@pytest.mark.parametrize("story", sorted(STORIES))
def test_no_action_collects_more_than_the_invoice_and_what_the_law_adds(full_desk, story):
    """Every action in every future collects at most the open balance, plus statutory interest (reference rate + 8
    points, from the due date to the last payment) and EUR 40 compensation; the court costs a judgment makes the
    debtor repay are at most what the case cost."""
    case = _case(full_desk, story)
    for choice in full_desk.choices:
        assert all(_within_the_law(full_desk, case, v) for v in full_desk.values(case, choice)), choice


@pytest.mark.slow
@pytest.mark.parametrize("story", [_story(s) for s in sorted(STORIES)])
def test_the_playbooks_choice_ranks_first_or_within_tolerance(full_desk, story):
    """Every action on the story's account, scored over the desk's futures: the playbook's choice is first, or its
    score is within the tolerance of the first.

    Tolerance: the larger of 1% of the open balance and the 95% half-width of the paired difference between the
    playbook's choice and the best one over the futures. Actions that differ by less than 1% of the balance (a
    few days' interest on it, the price of a letter, a goodwill change of a thousandth) are the same lesson: the
    score's economics (the relationship's margin, churn and order elasticities are assumptions, docs/sources.md)
    cannot tell them apart, and neither can a collector. Differences within the futures' own noise are not
    significant. The futures are the desk's own (``FUTURES``); nothing here is tuned to pass: a story that fails
    is in ``XFAIL_STORIES`` (strict) with the measured reason.
    """
    case = _case(full_desk, story)
    ranking = full_desk.ranking(case)
    best = ranking.index[0]
    mine, top = full_desk.values(case, case.recommended), full_desk.values(case, best)
    diffs = np.array([a.value - b.value for a, b in zip(mine, top)]) / 100
    noise = 1.96 * diffs.std(ddof=1) / np.sqrt(len(diffs))
    tolerance = max(TOLERANCE_SHARE * case.balance / 100, noise)
    assert diffs.mean() >= -tolerance, (
        f"{story}: the playbook's {case.recommended!r} scores {-diffs.mean():,.2f} below {best!r} "
        f"(tolerance {tolerance:,.2f})\n{ranking[['score', 'score +/-']]}")
