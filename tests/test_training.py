"""The collector's desk: the trainee's action reaches the engine through the decision interface."""

from pathlib import Path

import numpy as np
import pytest

import collectsim
from collectsim.dashboard import resize
from collectsim.decisions import Action
from collectsim.eventlog import EventKind
from collectsim.rule_policy import RuleBasedPolicy
from collectsim.training import STORIES, Desk, DeskDecider, _balance_on

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def desk():
    scenario = resize(collectsim.load_scenario(SCENARIOS / "baseline.toml"), 60, 90, 365)
    return Desk(scenario, "as-is", seed=3)


def test_queue_has_one_open_overdue_invoice_per_story_that_has_one(desk):
    segments = [c.segment for c in desk.cases]
    assert len(segments) == len(set(segments)) >= 3 and set(segments) <= set(STORIES)
    for c in desk.cases:
        assert c.balance > 0 and c.days_overdue >= 10
    names = [s.name for s in desk.scenario.portfolio.segments]
    inv = desk.base.invoices
    for missing in set(STORIES) - set(segments):  # really nothing open and overdue there
        rows = np.flatnonzero((inv["segment"] == names.index(missing)) & (inv["due_day"] <= desk.day - 10))
        assert all(_balance_on(desk.base, int(r), desk.day) == 0 for r in rows)


def test_the_trainees_action_is_taken_on_the_desk_day_and_nothing_else_changes_before(desk):
    case = next(c for c in desk.cases if c.segment == "habitually-late")
    action = Action.remind("phone", "final", 600)
    decider = DeskDecider(RuleBasedPolicy(desk.spec, desk.scenario), case.customer, case.seq, desk.day, (action,))
    result = collectsim.simulate(desk.scenario, desk.spec, desk.seed, decider=decider)
    inv, ev = result.invoices, result.events
    row = int(np.flatnonzero((inv["customer"] == case.customer) & (inv["seq"] == case.seq))[0])
    taken = (ev["invoice"] == row) & (ev["day"] == desk.day) & (ev["kind"] == EventKind.REMINDER)
    assert taken.sum() == 1 and ev["tone"][taken][0] == 2 and ev["channel"][taken][0] == 2
    base = desk.base.events
    before = ev["day"] < desk.day
    assert np.array_equal(ev["amount"][before], base["amount"][base["day"] < desk.day])


def test_outcomes_differ_by_choice_and_the_playbook_choice_is_shown_beside(desk):
    case = next(c for c in desk.cases if c.segment == "cash-strained")
    table = desk.compare(case, "legal action")
    assert list(table.index) == ["legal action", case.recommended]
    assert table.loc["legal action", "action and escalation costs"] >= 600
    assert table.loc["legal action", "customer's goodwill at the end"] != table.loc[case.recommended,
                                                                                     "customer's goodwill at the end"]


def test_unknown_choice_is_refused(desk):
    with pytest.raises(ValueError, match="unknown choice"):
        desk.outcome(desk.cases[0], "shout")


def test_desk_widget_act_shows_the_outcome_and_keeps_score(desk):
    pytest.importorskip("ipywidgets")
    from collectsim.training import DeskWidget

    ui = DeskWidget(desk)
    first_story = ui.story.value
    ui.account.value = 1
    assert ui.story.value != first_story
    ui.choice.value = "firm call"
    ui.act.click()
    assert "Playbook:" in ui.result.value and "firm call" in ui.result.value and ui.turns == 1
