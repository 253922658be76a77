"""Extended terms with milestones: offered once, paid in stages, broken at the first missed stage."""

import pytest

import collectsim
from collectsim.config.schema import ScenarioError
from helpers import small_data

MILESTONES = [{"after_days": 20, "share": 0.25}, {"after_days": 50, "share": 0.25}, {"after_days": 80, "share": 0.5}]


def _data(terms, **segment):
    """Customers who pay nothing unchased, never answer reminders and never pay set-aside debt."""
    data = small_data()
    data["policies"]["ladder"]["extended_terms"] = {"offer": True, "milestones": MILESTONES, **terms}
    data.setdefault("behaviour", {})["set_aside_pay_days"] = 0.0
    for seg in data["portfolio"]["segments"]:
        seg.update({"ignore_share": 1.0, "dispute_rate": 0.0, "responsiveness": 0.0, **segment})
    return data


def _events(scenario):
    result = collectsim.simulate(scenario)
    return result, result.events.to_frame()


def test_a_reliable_customer_pays_each_milestone_on_its_day_and_the_last_takes_the_rest():
    scenario = collectsim.parse_scenario(_data({"after_days_overdue": 10}, plan_acceptance=1.0,
                                               instalment_reliability=1.0))
    result, ev = _events(scenario)
    agreed = ev[ev["kind"] == "terms_agreed"].set_index("invoice")
    assert len(agreed) > 50 and (ev["kind"] == "terms_offered").sum() == len(agreed)
    assert result.metrics.terms_agreed > 0 and result.metrics.plans_agreed == 0
    checked = 0
    for row, terms in agreed.iterrows():
        if terms["day"] + 80 >= scenario.horizon.total_days:
            continue
        pays = ev[(ev["invoice"] == row) & (ev["kind"] == "payment")]
        assert pays["day"].tolist() == [terms["day"] + 20, terms["day"] + 50, terms["day"] + 80]
        balance = terms["amount"]  # the balance put on terms
        assert pays["amount"].tolist()[:2] == [round(balance * 0.25)] * 2
        assert pays["amount"].sum() == balance
        reminders = ev[(ev["invoice"] == row) & (ev["kind"] == "reminder")]
        assert not ((reminders["day"] > terms["day"]) & (reminders["day"] <= terms["day"] + 80)).any()
        checked += 1
    assert checked > 30


def test_the_offer_replaces_the_step_that_day_and_a_plan_due_the_same_day():
    data = _data({"after_days_overdue": 7}, plan_acceptance=0.0, strain_rate=0.0)
    data["policies"]["ladder"]["plans"] = {"offer": True, "after_days_overdue": 7}
    _, ev = _events(collectsim.parse_scenario(data))
    offers = ev[ev["kind"] == "terms_offered"]
    assert offers["invoice"].is_unique and len(offers) > 50
    assert (offers["channel"] == "phone").all()  # the +7 step's channel
    assert (ev["kind"] == "plan_offered").sum() == 0
    reminders = ev[ev["kind"] == "reminder"]
    assert not set(zip(reminders["invoice"], reminders["day"])) & set(zip(offers["invoice"], offers["day"]))


def test_a_missed_milestone_ends_the_terms_at_once_and_their_own_default_rule_applies():
    data = _data({"after_days_overdue": 10, "on_default": "write_off"}, plan_acceptance=1.0,
                 instalment_reliability=0.0)
    data["policies"]["ladder"]["plans"] = {"on_default": "resume"}  # the plan's rule must not be used
    _, ev = _events(collectsim.parse_scenario(data))
    agreed = ev[ev["kind"] == "terms_agreed"].set_index("invoice")["day"]
    defaults = ev[ev["kind"] == "plan_defaulted"].set_index("invoice")["day"]
    assert len(defaults) > 50 and set(defaults.index) <= set(agreed.index)
    assert (defaults == agreed.reindex(defaults.index) + 20).all()  # the first milestone, no second chance
    assert (ev[ev["kind"] == "plan_missed"].groupby("invoice").size().reindex(defaults.index) == 1).all()
    write_offs = ev[ev["kind"] == "write_off"].set_index("invoice")["day"]
    assert (write_offs.reindex(defaults.index) == defaults).all()


def test_after_broken_terms_a_later_plan_can_still_be_offered():
    data = _data({"after_days_overdue": 5, "milestones": [{"after_days": 10, "share": 1.0}],
                  "on_default": "resume"}, plan_acceptance=1.0, instalment_reliability=0.0)
    data["policies"]["ladder"]["plans"] = {"offer": True, "after_days_overdue": 40}
    _, ev = _events(collectsim.parse_scenario(data))
    broken = set(ev.loc[ev["kind"] == "plan_defaulted", "invoice"])
    offered_plan = set(ev.loc[ev["kind"] == "plan_offered", "invoice"])
    assert len(broken & offered_plan) > 50


@pytest.mark.parametrize(("milestones", "message"), [
    ([{"after_days": 30, "share": 0.5}, {"after_days": 60, "share": 0.4}], "shares must add up to 1"),
    ([{"after_days": 60, "share": 0.5}, {"after_days": 30, "share": 0.5}], "greater than the previous"),
    ([], "at least one milestone"),
])
def test_bad_milestones_are_refused_naming_the_key(milestones, message):
    with pytest.raises(ScenarioError, match=rf"policies\.ladder\.extended_terms\.milestones.*{message}"):
        collectsim.parse_scenario(_data({"milestones": milestones}))
