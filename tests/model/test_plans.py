"""Instalment plans: offered once, agreed or declined, paid by instalments, missed, broken."""


import collectsim
from collectsim import Decision, Point
from helpers import paired_t, small_data


def _scenario(plans, set_aside_pay_days=0.0, **segment):
    """Customers who pay nothing unchased and never answer reminders (nor pay set-aside debt, by default)."""
    data = small_data()
    data["policies"]["ladder"]["plans"] = {"offer": True, **plans}
    data.setdefault("behaviour", {})["set_aside_pay_days"] = set_aside_pay_days
    for seg in data["portfolio"]["segments"]:
        seg.update({"ignore_share": 1.0, "dispute_rate": 0.0, "responsiveness": 0.0, **segment})
    return collectsim.parse_scenario(data)


def _events(result):
    return result.events.to_frame()


def test_a_reliable_customer_pays_down_payment_then_equal_instalments():
    scenario = _scenario({"after_days_overdue": 10, "instalments": 3, "interval_days": 30, "down_payment": 0.25},
                         plan_acceptance=1.0, instalment_reliability=1.0)
    result = collectsim.simulate(scenario)
    ev = _events(result)
    agreed = ev[ev["kind"] == "plan_agreed"].set_index("invoice")
    assert len(agreed) > 50 and (ev["kind"] == "plan_offered").sum() == len(agreed)
    horizon_end = scenario.horizon.total_days
    checked = 0
    for row, plan in agreed.iterrows():
        if plan["day"] + 1 + 3 * 30 >= horizon_end:
            continue
        pays = ev[(ev["invoice"] == row) & (ev["kind"] == "payment")]
        assert pays["day"].tolist() == [plan["day"] + 1, plan["day"] + 31, plan["day"] + 61, plan["day"] + 91]
        amount = result.invoices["amount"][row]
        assert pays["amount"].iloc[0] == round(amount * 0.25)
        assert abs(pays["amount"].iloc[1] - pays["amount"].iloc[3]) <= 2  # equal instalments up to rounding
        assert pays["amount"].sum() == amount
        # No reminders while the plan runs.
        reminders = ev[(ev["invoice"] == row) & (ev["kind"] == "reminder")]
        assert not ((reminders["day"] > plan["day"]) & (reminders["day"] <= plan["day"] + 91)).any()
        checked += 1
    assert checked > 30


def test_offer_replaces_the_step_that_day_and_comes_once():
    scenario = _scenario({"after_days_overdue": 7}, plan_acceptance=0.0, strain_rate=0.0)  # strain adds acceptance
    ev = _events(collectsim.simulate(scenario))
    offers = ev[ev["kind"] == "plan_offered"]
    assert offers["invoice"].is_unique and len(offers) > 50
    assert (offers["channel"] == "phone").all() and (offers["cost"] == 600).all()  # the +7 step's channel
    reminders = ev[ev["kind"] == "reminder"]
    assert not set(zip(reminders["invoice"], reminders["day"])) & set(zip(offers["invoice"], offers["day"]))
    assert (ev["kind"] == "plan_agreed").sum() == 0


def test_missed_instalments_beyond_tolerance_break_the_plan_and_write_off():
    scenario = _scenario({"after_days_overdue": 10, "missed_tolerance": 1, "on_default": "write_off"},
                         plan_acceptance=1.0, instalment_reliability=0.0)
    ev = _events(collectsim.simulate(scenario))
    defaults = ev[ev["kind"] == "plan_defaulted"].set_index("invoice")["day"]
    assert len(defaults) > 50
    misses = ev[ev["kind"] == "plan_missed"].groupby("invoice").size()
    assert (misses.reindex(defaults.index) == 2).all()  # tolerance 1: the second miss breaks it
    write_offs = ev[ev["kind"] == "write_off"].set_index("invoice")["day"]
    assert (write_offs.reindex(defaults.index) == defaults).all()  # same day, in the review phase


def test_after_a_default_the_ladder_resumes():
    scenario = _scenario({"after_days_overdue": 3, "missed_tolerance": 0, "down_payment": 0.0, "interval_days": 5,
                          "on_default": "resume"}, plan_acceptance=1.0, instalment_reliability=0.0)
    ev = _events(collectsim.simulate(scenario))
    defaults = ev[ev["kind"] == "plan_defaulted"].set_index("invoice")["day"]
    reminders = ev[ev["kind"] == "reminder"]
    resumed = [inv for inv, day in defaults.items()
               if ((reminders["invoice"] == inv) & (reminders["day"] > day)).any()]
    assert len(defaults) > 50 and len(resumed) == len(defaults)  # the +7 and +21 steps follow the default


def test_after_a_default_the_ladder_can_restart_from_the_break():
    # Ladder -3, +7, +21 (small scenario); the plan is offered at +30, after every step has gone out.
    scenario = _scenario({"after_days_overdue": 30, "missed_tolerance": 0, "down_payment": 0.0, "interval_days": 5,
                          "on_default": "restart"}, plan_acceptance=1.0, instalment_reliability=0.0)
    ev = _events(collectsim.simulate(scenario))
    defaults = ev[ev["kind"] == "plan_defaulted"].set_index("invoice")["day"]
    reminders = ev[ev["kind"] == "reminder"]
    checked = 0
    for inv, day in defaults.items():
        if day + 21 < scenario.horizon.total_days:
            after = reminders.loc[(reminders["invoice"] == inv) & (reminders["day"] > day), "day"].tolist()
            assert after == [day + 7, day + 21]  # the +7 and +21 steps again, counted from the break
            checked += 1
    assert checked > 50


def test_a_broken_plan_leaves_the_rest_set_aside_and_sometimes_paid_much_later():
    scenario = _scenario({"after_days_overdue": 3, "missed_tolerance": 0, "down_payment": 0.0, "interval_days": 5,
                          "on_default": "resume"}, set_aside_pay_days=60.0, plan_acceptance=1.0,
                         instalment_reliability=0.0)
    ev = _events(collectsim.simulate(scenario))
    defaults = ev[ev["kind"] == "plan_defaulted"].set_index("invoice")["day"]
    payments = ev[ev["kind"] == "payment"].groupby("invoice")["day"].min()
    paid_after = payments.reindex(defaults.index) - defaults
    assert len(defaults) > 50
    assert (paid_after.dropna() > 0).all()  # nothing is paid on the plan (reliability 0) or on the day it broke
    share_paid = paid_after.notna().mean()
    # set_aside_never_share is 0.2; the rest pays at a log-normal delay (median 60 days) unless the run ends first.
    assert 0.4 < share_paid < 0.85
    assert 20 < paid_after.median() < 200


def test_after_a_default_the_invoice_can_go_straight_to_the_agency():
    data_plans = {"after_days_overdue": 10, "missed_tolerance": 0, "down_payment": 0.0, "interval_days": 5,
                  "on_default": "escalate"}
    scenario = _scenario(data_plans, plan_acceptance=1.0, instalment_reliability=0.0)
    scenario = scenario.with_policies(scenario.policy("ladder").with_values(
        {"escalation.agency": True, "escalation.agency_after_days_overdue": 200}))
    ev = _events(collectsim.simulate(scenario))
    defaults = ev[ev["kind"] == "plan_defaulted"].set_index("invoice")["day"]
    placed = ev[ev["kind"] == "agency_placed"].set_index("invoice")["day"]
    assert len(defaults) > 50 and (placed.reindex(defaults.index) == defaults).all()


class BreakRecorder(collectsim.DecisionMaker):
    """Scripted: offer a plan at due + 1, record PLAN_DEFAULTED questions, write off then."""

    def __init__(self):
        self.defaulted = []

    def decide(self, point, day, invoice, goodwill):
        if point is Point.ISSUED:
            return Decision((), invoice.due_day + 1)
        if point is Point.PLAN_DEFAULTED:
            self.defaulted.append((invoice.customer, invoice.seq, day, invoice.in_plan, invoice.had_plan))
            return Decision((collectsim.Action.write_off(),), None)
        return Decision((collectsim.Action.offer_plan("email", 50, 2, 10, 0.0, 0),), None)


def test_a_broken_plan_is_put_to_any_decision_maker():
    recorder = BreakRecorder()
    result = collectsim.simulate(_scenario({}, plan_acceptance=1.0, instalment_reliability=0.0), decider=recorder)
    assert len(recorder.defaulted) > 50
    assert all(not in_plan and had_plan for *_, in_plan, had_plan in recorder.defaulted)
    assert result.metrics.plans_defaulted > 0 and result.metrics.plans_agreed >= result.metrics.plans_defaulted


def test_plans_for_strained_customers_lower_bad_debt_at_a_goodwill_gain():
    """Stylised fact: offering a plan beats chasing harder with cash-strained customers (10 CRN seeds)."""
    data = small_data()
    data["horizon"]["measured_days"] = 240
    data["portfolio"]["segments"] = [{
        "name": "strained", "customers": 60, "orders_per_year": 10, "days_late_mean": 40.0, "ignore_share": 0.5,
        "responsiveness": 0.5, "partial_share": 0.3, "plan_acceptance": 0.8, "instalment_reliability": 0.9,
        "goodwill_sensitivity": 1.5}]
    data["policies"] = {"harder": {"reminders": {"steps": [
        {"offset": 1, "channel": "email", "tone": "firm"}, {"offset": 7, "channel": "phone", "tone": "firm"},
        {"offset": 14, "channel": "letter", "tone": "final"}, {"offset": 21, "channel": "phone", "tone": "final"},
        {"offset": 30, "channel": "letter", "tone": "final"}]}, "write_off": {"age_days": 120}}}
    scenario = collectsim.parse_scenario(data)
    harder = scenario.policy("harder")
    plan = harder.with_values({"name": "plan", "reminders": {"steps": [
        {"offset": 1, "channel": "email", "tone": "friendly"}, {"offset": 7, "channel": "phone", "tone": "friendly"}]},
        "plans": {"offer": True, "after_days_overdue": 14, "instalments": 4, "interval_days": 14}})
    bad, goodwill = [], []
    for seed in range(1, 11):
        a, b = (collectsim.simulate(scenario, p, seed=seed).metrics for p in (harder, plan))
        bad.append(a.bad_debt_ratio - b.bad_debt_ratio)
        goodwill.append(b.mean_goodwill - a.mean_goodwill)
    for diffs in (bad, goodwill):
        assert paired_t(diffs) > 3, diffs


def _requests(on_request):
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(strain_rate=0.3, strain_recovery_rate=0.1, distress_rate=0.1, insolvency_rate=0.0)
    data["policies"]["ladder"]["plans"] = {"offer": False, "on_request": on_request, "instalments": 3}
    result = collectsim.simulate(collectsim.parse_scenario(data), seed=5)
    return result, result.events.to_frame()


def test_strained_customers_ask_for_plans_and_the_policy_grants_or_refuses():
    granted, ev = _requests(True)
    asked = ev[ev["kind"] == "plan_requested"]
    agreed = ev[ev["kind"] == "plan_agreed"]
    assert len(asked) > 10
    # Each grant is agreed on the day it was asked for, for the same invoice; nothing is offered unasked.
    assert sorted(zip(asked["day"], asked["invoice"])) == sorted(zip(agreed["day"], agreed["invoice"]))
    assert (ev["kind"] == "plan_offered").sum() == 0
    refused, ev_refused = _requests(False)
    asked_refused = ev_refused[ev_refused["kind"] == "plan_requested"]
    assert len(asked_refused) > 10 and (ev_refused["kind"] == "plan_agreed").sum() == 0
    # A refusal costs goodwill unless a worse event on the account this month already did.
    assert (asked_refused["goodwill_after"] <= asked_refused["goodwill_before"]).all()
    assert (asked_refused["goodwill_after"] < asked_refused["goodwill_before"]).mean() > 0.5
    # The request comes with a reminder about an overdue invoice, once per invoice.
    due = refused.invoices["due_day"][asked_refused["invoice"].to_numpy()]
    assert (asked_refused["day"].to_numpy() > due).all() and asked_refused["invoice"].is_unique
    assert granted.metrics.mean_goodwill > refused.metrics.mean_goodwill
