"""Policy targets: what a controller can see of a customer (its standing), the selectors, the choice of target."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import collectsim
from collectsim.config.policy_spec import SELECTORS
from collectsim.config.schema import ScenarioError
from collectsim.model import standing
from collectsim.model.decisions import Standing
from collectsim.model.policy_tables import (
    SEL_BAND,
    SEL_DISPUTED_WITHIN,
    SELECTOR_COLUMNS,
    UNSET,
    choose_target,
    profile_row,
    selector_table,
    tables_of,
    target_matches,
)
from collectsim.model.rule_policy import RuleBasedPolicy
from helpers import small_data

K = standing.RECENT_INVOICES
NEVER_DISPUTED = 1 << 62


def _standing(tenure=400, balance=0, late=(), overdue=0, disputes=0, since_dispute=NEVER_DISPUTED) -> Standing:
    """A customer's standing with these recent invoices' days late (at most K of them)."""
    ring, paid = [0] * K, 0
    for days in late:
        paid = standing.push_days_late(ring, paid, days)
    return Standing(tenure, balance, standing.recent_total(ring, paid), standing.recent_count(paid), overdue,
                    disputes, since_dispute)


def _policy(*targets, **base) -> collectsim.PolicySpec:
    return collectsim.PolicySpec(name="p").with_values({"targets": list(targets), **base})


# --- the standing ----------------------------------------------------------------------------------------

def test_days_late_counts_only_lateness():
    assert standing.days_late(110, 100) == 10
    assert standing.days_late(95, 100) == 0


def test_recent_days_late_is_over_the_last_k_invoices_paid():
    ring, paid = [0] * K, 0
    for days in (50, 50, 0, 0, 0, 0, 0):  # two very late ones, then K on time
        paid = standing.push_days_late(ring, paid, days)
    assert paid == 7
    assert standing.recent_count(paid) == K
    assert standing.recent_total(ring, paid) == 0  # the two late ones fell out of the window
    ring, paid = [0] * K, 0
    paid = standing.push_days_late(ring, paid, 12)
    paid = standing.push_days_late(ring, paid, 30)
    assert (standing.recent_total(ring, paid), standing.recent_count(paid)) == (42, 2)


@given(st.lists(st.integers(0, 400), max_size=20))
def test_recent_total_is_the_sum_of_the_last_k(days):
    ring, paid = [0] * K, 0
    for d in days:
        paid = standing.push_days_late(ring, paid, d)
    assert standing.recent_total(ring, paid) == sum(days[-K:])
    assert standing.recent_count(paid) == min(len(days), K)


@given(st.lists(st.integers(0, 400), max_size=20))
def test_a_seeded_ring_is_the_ring_pushing_the_whole_history_leaves(days):
    ring, paid = [0] * K, 0
    for d in days:
        paid = standing.push_days_late(ring, paid, d)
    seeded = standing.seeded_ring(days[-K:], len(days))
    assert seeded == ring
    nxt = standing.push_days_late(seeded, len(days), 7)  # and it goes on as the engines' ring does
    standing.push_days_late(ring, paid, 7)
    assert seeded == ring and standing.recent_total(seeded, nxt) == sum((days + [7])[-K:])


def test_the_ledger_history_is_what_was_issued_paid_and_disputed_before_the_day():
    # (issue, due, paid or -1, disputed): paid 10 late, paid on time, paid 3 late on day 80, open and disputed,
    # and one issued on the day itself (not yet history)
    rows = [(0, 30, 40, False), (10, 40, 35, False), (20, 50, 80, True), (30, 60, -1, True), (90, 120, -1, False)]
    issue, due, paid, disputed = (list(col) for col in zip(*rows))
    assert standing.ledger_history(issue, due, paid, disputed, 90) == (0, [0, 10, 30], 3, 60)  # by payment day
    assert standing.ledger_history(issue, due, paid, disputed, 60) == (0, [0, 10], 2, 50)  # day 80 not yet
    assert standing.ledger_history(issue, due, paid, disputed, 0) == (None, [], 0, standing.NO_DISPUTE)


def test_risk_bands_follow_the_mean_days_late():
    assert standing.risk_band(0, 0) == standing.BAND_NEW
    assert standing.risk_band(14 * 3, 3) == standing.BAND_LOW
    assert standing.risk_band(14 * 3 + 1, 3) == standing.BAND_MEDIUM
    assert standing.risk_band(30 * 5, 5) == standing.BAND_MEDIUM
    assert standing.risk_band(30 * 5 + 1, 5) == standing.BAND_HIGH


# --- selectors and the choice of a target ---------------------------------------------------------------

def _match(when: dict, s: Standing) -> bool:
    sel = selector_table(_policy({"name": "t", "when": when}))[0]
    return bool(target_matches(sel, *s))


@pytest.mark.parametrize("when,yes,no", [
    ({"open_balance_min": 500.0}, _standing(balance=50_000), _standing(balance=49_999)),
    ({"open_balance_max": 500.0}, _standing(balance=50_000), _standing(balance=50_001)),
    ({"recent_days_late_min": 20}, _standing(late=(10, 30)), _standing(late=(10, 29))),
    ({"recent_days_late_min": 0}, _standing(late=(0,)), _standing()),  # no history: no mean to compare
    ({"recent_days_late_max": 5}, _standing(late=(5, 5)), _standing(late=(5, 6))),
    ({"recent_days_late_max": 5}, _standing(late=(0,)), _standing()),
    ({"overdue_days_min": 30}, _standing(overdue=30), _standing(overdue=29)),
    ({"disputes_min": 1}, _standing(disputes=1), _standing(disputes=0)),
    ({"disputed_within_days": 90}, _standing(since_dispute=90), _standing(since_dispute=91)),
    ({"disputed_within_days": 90}, _standing(since_dispute=0), _standing()),
    ({"risk_band": "new"}, _standing(), _standing(late=(0,))),
    ({"risk_band": "low"}, _standing(late=(14,)), _standing(late=(15,))),
    ({"risk_band": "high"}, _standing(late=(31,)), _standing(late=(30,))),
    ({"tenure_days_max": 180}, _standing(tenure=180), _standing(tenure=181)),
    ({"tenure_days_min": 180}, _standing(tenure=180), _standing(tenure=179)),
    ({"recent_days_late_min": 20, "open_balance_min": 100.0}, _standing(late=(20,), balance=10_000),
     _standing(late=(20,), balance=9_999)),  # every selector given must hold
])
def test_each_selector_holds_on_its_side_of_the_threshold(when, yes, no):
    assert _match(when, yes)
    assert not _match(when, no)


def test_every_selector_has_a_column_and_unset_ones_are_marked():
    assert set(SELECTOR_COLUMNS) == set(SELECTORS)
    table = selector_table(_policy({"name": "a", "when": {"risk_band": "high"}},
                                   {"name": "b", "when": {"disputed_within_days": 0}}))
    assert table.dtype == np.int64 and table.shape == (2, len(SELECTOR_COLUMNS))
    assert table[0, SEL_BAND] == standing.BAND_HIGH and table[0, SEL_DISPUTED_WITHIN] == UNSET
    assert table[1, SEL_DISPUTED_WITHIN] == 0 and table[1, SEL_BAND] == UNSET


def test_the_first_matching_target_wins_and_none_means_the_base():
    spec = _policy({"name": "disputing", "when": {"disputes_min": 1}},
                   {"name": "slow", "when": {"recent_days_late_min": 20}})
    sel = selector_table(spec)
    assert choose_target(sel, *_standing(late=(40,), disputes=1)) == 1
    assert choose_target(sel, *_standing(late=(40,))) == 2
    assert choose_target(sel, *_standing(late=(4,))) == 0
    assert choose_target(selector_table(_policy()), *_standing(late=(40,))) == 0


def test_tables_hold_one_row_per_segment_and_target(small):
    spec = _policy({"name": "slow", "when": {"recent_days_late_min": 20},
                    "reminders": {"steps": [{"offset": 2, "channel": "phone", "tone": "firm"}]}},
                   reminders={"steps": [{"offset": 9}]})
    tables = tables_of(spec, small)
    assert tables.ints.shape[0] == 2 * 2  # two segments x (base + one target)
    for s in range(2):
        assert tables.step_offset[profile_row(tables.selectors, s, 0), 0] == 9
        assert tables.step_offset[profile_row(tables.selectors, s, 1), 0] == 2
    policy = RuleBasedPolicy(spec, small)
    assert policy.reads_standing
    assert policy.profile(1, _standing(late=(25,))) == profile_row(tables.selectors, 1, 1)
    assert policy.profile(1, _standing(late=(5,))) == profile_row(tables.selectors, 1, 0)
    assert not RuleBasedPolicy(_policy(), small).reads_standing


def test_a_target_inherits_what_it_does_not_set_and_a_segment_override_lies_under_it(small):
    spec = _policy({"name": "slow", "when": {"risk_band": "high"}, "discount": {"rate": 0.02}},
                   write_off={"age_days": 200})
    spec = spec.with_values({"segments": {"late": {"write_off": {"age_days": 90}, "discount": {"rate": 0.01}}}})
    assert spec.for_target("steady", 1).write_off.age_days == 200
    assert spec.for_target("late", 1).write_off.age_days == 90
    assert spec.for_target("late", 1).discount.rate == 0.02  # the target's own value wins
    assert spec.for_target("late", 0).discount.rate == 0.01
    assert spec.for_target_named("slow").discount.rate == 0.02
    # a sweep's change of the base reaches the targets that do not set it
    assert spec.with_values({"write_off.age_days": 300}).for_target("steady", 1).write_off.age_days == 300


# --- errors -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target,key,says", [
    ({"name": "t", "when": {"xyz": 1}}, "policy.targets[0].when.xyz", "allowed keys here: open_balance_min, "),
    ({"name": "t", "when": {"recent_days_late_min": "late"}}, "policy.targets[0].when.recent_days_late_min",
     "must be an integer"),
    ({"name": "t", "when": {"open_balance_min": -1}}, "policy.targets[0].when.open_balance_min", "from 0"),
    ({"name": "t", "when": {"tenure_days_min": 90, "tenure_days_max": 30}}, "policy.targets[0].when.tenure_days_max",
     "must be at least tenure_days_min"),
    ({"name": "t", "when": {}}, "policy.targets[0].when", "needs at least one selector"),
    ({"name": "t"}, "policy.targets[0].when", "needs at least one selector"),
    ({"when": {"disputes_min": 1}}, "policy.targets[0].name", "every target needs a name"),
    ({"name": "t", "when": {"disputes_min": 1}, "remiders": {}}, "policy.targets[0].remiders",
     "allowed keys here: name, when, reminders"),
    ({"name": "t", "when": {"disputes_min": 1}, "segments": {}}, "policy.targets[0].segments", "unknown key"),
    ({"name": "t", "when": {"disputes_min": 1}, "discount": {"rate": 0.9}}, "policy.targets[0].discount.rate",
     "from 0 to 0.2"),
])
def test_a_bad_target_is_one_line_naming_its_key(target, key, says):
    data = small_data()
    data["policies"] = {"ladder": {"targets": [target]}}
    with pytest.raises(ScenarioError) as err:
        collectsim.parse_scenario(data, source="s.toml")
    message = str(err.value)
    assert "\n" not in message
    assert "s.toml: policies.ladder.targets[0]" in message and key.removeprefix("policy.") in message, message
    assert says in message, message


def test_two_targets_of_one_name_are_refused():
    data = small_data()
    data["policies"] = {"ladder": {"targets": [{"name": "t", "when": {"disputes_min": 1}},
                                               {"name": "t", "when": {"disputes_min": 2}}]}}
    with pytest.raises(ScenarioError, match=r"targets\[1\]\.name = 't': names a target already defined"):
        collectsim.parse_scenario(data, source="s.toml")


def test_a_target_in_a_strategy_file_is_named_under_policy(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[policy]\nname = "x"\n[[policy.targets]]\nname = "t"\nwhen = { xyz = 1 }\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"policy\.targets\[0\]\.when\.xyz = 1: unknown key; allowed keys here: "
                                            r"open_balance_min, open_balance_max, recent_days_late_min"):
        collectsim.load_strategy(path)


def test_a_sweep_or_the_optimiser_can_vary_a_targets_threshold_and_levers():
    spec = _policy({"name": "slow", "when": {"recent_days_late_min": 21}, "reminders": {"steps": [{"offset": 1}]}})
    varied = spec.with_values({"targets.0.when.recent_days_late_min": 30, "targets.0.reminders.steps.0.offset": 3})
    assert varied.selectors()[0].recent_days_late_min == 30
    assert varied.for_target_named("slow").reminders.steps[0].offset == 3
    with pytest.raises(ScenarioError, match=r"targets\[0\]\.when\.recent_days_late_min = -1"):
        spec.with_values({"targets.0.when.recent_days_late_min": -1})
