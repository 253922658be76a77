"""The recommendation: the best policy meeting the constraints, binding constraints, ties, robustness, the words.

Most tests build a :class:`Comparison` by hand from replications whose metrics are chosen so that the relation
under test holds by construction (a paired difference that is the same in every replication is significant, one
whose signs alternate around zero is not); the rest run a tiny real comparison.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.experiments.compare import Comparison
from collectsim.experiments.recommend import (
    COST_METRIC,
    Constraint,
    RecommendError,
    objectives,
    parse_constraint,
    recommend,
)
from collectsim.experiments.replication import Replication
from collectsim.experiments.robustness import Label, Robustness, Setting
from collectsim.results.metric_info import METRIC_INFO
from helpers import small_data, write_small_scenario

REPS = 6
#: The same chance in every policy's replication j (common random numbers): what pairing removes.
LUCK = np.array([3.0, -1.0, 4.0, -1.5, 5.0, -9.0]) * 1e5
#: Alternating around zero: a paired difference with mean 0, whose interval always contains 0.
WOBBLE = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0]) * 1e4


def _comparison(table: dict[str, dict[str, np.ndarray | float]], measured=(30, 395)) -> Comparison:
    """A comparison of ``table``'s policies (the first is the current practice): each metric's per-replication
    values, or one number for all of them."""
    runs = []
    for policy, metrics in table.items():
        for j in range(REPS):
            values = {m: float(v[j]) if isinstance(v, np.ndarray) else float(v) for m, v in metrics.items()}
            values.setdefault(COST_METRIC, 1e6)
            runs.append(Replication(policy, j, j, values, np.zeros(1), np.zeros((1, 1)), np.zeros(1), np.zeros(1),
                                    np.zeros(1, dtype=np.int32)))
    return Comparison("test", "EUR", 1, tuple(table), tuple(runs), measured=measured)


def _net(offset: float, wobble: bool = False) -> np.ndarray:
    return 5e7 + LUCK + offset + (WOBBLE if wobble else 0.0)


@pytest.fixture
def four() -> Comparison:
    """as-is (current), then better by net value: steady < fast (DSO 50) ; 'twin' ties with steady."""
    return _comparison({
        "as-is": {"net_value": _net(0), "dso": 44.0, "churned_customers": 10.0},
        "steady": {"net_value": _net(2e6), "dso": 40.0, "churned_customers": 8.0, COST_METRIC: 9e5},
        "twin": {"net_value": _net(2e6, wobble=True), "dso": 41.0, "churned_customers": 8.0, COST_METRIC: 8e5},
        "fast": {"net_value": _net(5e6), "dso": 50.0, "churned_customers": 14.0},
    })


def test_without_constraints_the_best_mean_objective_is_recommended_with_its_paired_gain(four):
    rec = recommend(four)
    assert rec.policy == "fast" and rec.objective == "net_value"
    diff = four.difference("fast", "as-is", "net_value")
    assert (rec.gain, rec.lo, rec.hi) == (diff.mean, diff.lo, diff.hi)
    assert rec.lo <= rec.gain <= rec.hi and rec.lo > 0
    assert rec.text.startswith("Adopt fast: it adds EUR ")
    assert "over the measured year" in rec.text  # measured period of 365 days
    assert rec.constraints == () and rec.tied_with == ()


def test_a_constraint_excludes_the_best_policy_and_is_said_to_bind(four):
    rec = recommend(four, constraints=["dso<=45"])
    assert rec.policy in ("steady", "twin")
    means = {p: four.interval(p, "net_value").mean for p in ("steady", "twin")}
    assert means[rec.policy] == max(means.values())
    [row] = rec.constraints
    assert row["text"] == "dso<=45" and row["met"] is True and row["binds"] is True
    assert row["excludes"] == ("fast",)
    assert "dso<=45 binds" in rec.text and "fast" in rec.text


def test_a_constraint_that_excludes_only_worse_policies_does_not_bind(four):
    rec = recommend(four, constraints=["churned_customers<=12"])  # excludes 'fast', the best: binds
    assert rec.constraints[0]["binds"]
    rec = recommend(four, constraints=["churned_customers<15", "dso>=45"])  # excludes all but fast, the best
    assert rec.policy == "fast"
    assert [r["binds"] for r in rec.constraints] == [False, False]
    assert "binds" not in rec.text
    assert "the current practice, as-is, breaks dso>=45" in rec.text


def test_ties_are_the_feasible_policies_not_significantly_different_and_the_cheapest_is_named(four):
    rec = recommend(four, constraints=["dso<=45"])
    other = "twin" if rec.policy == "steady" else "steady"
    assert rec.tied_with == (other,)
    assert not four.difference(rec.policy, other, "net_value").excludes_zero
    assert "as-is" not in rec.tied_with  # steady and twin beat it in every replication
    assert "twin is the cheapest to run" in rec.text  # lower mean collection costs


def test_when_the_current_practice_is_best_the_advice_is_to_keep_it():
    comp = _comparison({"as-is": {"net_value": _net(3e6)}, "other": {"net_value": _net(0)}})
    rec = recommend(comp)
    assert rec.policy == "as-is" and rec.gain == 0 and rec.lo is None and rec.hi is None
    assert rec.text.startswith("Keep the current practice, as-is: ")
    assert rec.to_dict()["gain"] == 0 and rec.to_dict()["lo"] is None


def test_when_better_policies_break_a_constraint_keeping_says_so():
    comp = _comparison({"as-is": {"net_value": _net(0), "dso": 40.0}, "other": {"net_value": _net(3e6), "dso": 60.0}})
    rec = recommend(comp, constraints=["dso<=45"])
    assert rec.policy == "as-is" and rec.constraints[0]["binds"]
    assert rec.text.startswith("Keep the current practice, as-is: ") and "other" in rec.text


def test_no_policy_meeting_the_constraints_is_said_and_the_most_excluding_constraint_named(four):
    rec = recommend(four, constraints=["churned_customers<=9", "dso<30"])
    assert rec.policy is None and rec.gain is None and rec.tied_with == ()
    assert rec.text.startswith("No policy compared meets every constraint: dso<30 excludes all 4 policies")
    assert "Adopt" not in rec.text and "Keep" not in rec.text


def test_a_lower_is_better_objective_picks_the_lowest_mean(four):
    rec = recommend(four, objective="dso")
    assert rec.policy == "steady"  # DSO 40, the lowest
    assert rec.gain < 0 and "lowers DSO by 4 days" in rec.text
    assert "measured year" not in rec.text  # DSO is no total over the period


def test_the_period_is_named_as_it_is():
    table = {"as-is": {"net_value": _net(0)}, "b": {"net_value": _net(1e6)}}
    assert "over the measured period (90 days)" in recommend(_comparison(table, (30, 120))).text
    assert "over the measured period " in recommend(_comparison(table, (0, 0))).text


@pytest.mark.parametrize("text, parsed", [
    ("dso<=45", Constraint("dso", "<=", 45)),
    (" churned_customers <= 10 ", Constraint("churned_customers", "<=", 10)),
    ("bad_debt_ratio<0.015", Constraint("bad_debt_ratio", "<", 0.015)),
    ("cash_collected>=1e9", Constraint("cash_collected", ">=", 1e9)),
    ("mean_goodwill>0.5", Constraint("mean_goodwill", ">", 0.5)),
])
def test_constraints_parse(text, parsed):
    assert parse_constraint(text) == parsed
    assert parse_constraint(parsed.text) == parsed


@pytest.mark.parametrize("text, says", [
    ("dso=<45", "write METRIC<=NUMBER"),
    ("dso==45", "write METRIC<=NUMBER"),
    ("dso<=", "write METRIC<=NUMBER"),
    ("dsoo<=45", "unknown metric 'dsoo'"),
    ("dso<=fast", "'fast' is not a finite number"),
    ("dso<=nan", "'nan' is not a finite number"),
])
def test_bad_constraints_fail_in_one_line_naming_them(text, says):
    with pytest.raises(RecommendError) as caught:
        parse_constraint(text)
    message = str(caught.value)
    assert "\n" not in message and repr(text) in message and says in message


def test_an_unknown_or_directionless_objective_fails_naming_it_and_the_allowed_ones(four):
    for bad in ("profit", "reminders_sent"):
        with pytest.raises(RecommendError) as caught:
            recommend(four, objective=bad)
        message = str(caught.value)
        assert "\n" not in message and repr(bad) in message and "net_value, " not in message.split(bad)[0]
        assert all(m in message for m in objectives())
    assert all(METRIC_INFO[m].better for m in objectives())


def _robustness(labels: list[Label]) -> Robustness:
    settings = (Setting("", "central", ()), Setting("churn response", "low", ()), Setting("churn response", "high", ()))
    return Robustness("test", 1, REPS, settings, tuple(labels))


def _label(b: str, high: str, central: str = "better") -> Label:
    verdicts = (("central", central), ("churn response low", central), ("churn response high", high))
    return Label("as-is", b, "net_value", verdicts, () if high == central else ("churn response",))


def test_robustness_is_read_from_the_label_of_the_recommended_policy_against_the_current_practice(four):
    assert recommend(four).robust is None and "not checked" in recommend(four).text
    steady = Comparison(**{**_fields(four), "robustness": _robustness([_label("fast", "better"),
                                                                        _label("steady", "worse")])})
    rec = recommend(steady)
    assert rec.policy == "fast" and rec.robust is True and rec.depends_on == ()
    assert "same under every behaviour assumption tested" in rec.text
    shaky = Comparison(**{**_fields(four), "robustness": _robustness([_label("fast", "not significant")])})
    rec = recommend(shaky)
    assert rec.robust is False and rec.depends_on == ("churn response",)
    assert "depends on churn response (churn response high: not significant)" in rec.text


def test_keeping_the_current_practice_depends_on_assumptions_where_another_policy_becomes_better():
    comp = _comparison({"as-is": {"net_value": _net(3e6)}, "other": {"net_value": _net(0)}})
    held = Comparison(**{**_fields(comp), "robustness": _robustness([_label("other", "not significant", "worse")])})
    assert recommend(held).robust is True
    turned = Comparison(**{**_fields(comp), "robustness": _robustness([_label("other", "better", "worse")])})
    rec = recommend(turned)
    assert rec.policy == "as-is" and rec.robust is False and rec.depends_on == ("churn response",)
    assert "Keeping it depends on churn response" in rec.text


def _fields(comp: Comparison) -> dict:
    return {"scenario": comp.scenario, "currency": comp.currency, "seed": comp.seed, "policies": comp.policies,
            "replications": comp.replications, "measured": comp.measured}


# --- a tiny real comparison ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Comparison:
    data = small_data()
    ladder = data["policies"]["ladder"]
    data["policies"] = {"ladder": ladder, "silent": {"reminders": {"steps": []}, "write_off": {"age_days": 120}},
                        "ladder-again": ladder}
    return collectsim.compare(collectsim.parse_scenario(data), reps=3, progress=False)


def test_the_json_carries_the_recommendation(real):
    out = json.loads(real.with_recommendation("dso", ["churned_customers<=1000"]).to_json())
    rec = out["recommendation"]
    assert set(rec) == {"policy", "objective", "gain", "lo", "hi", "constraints", "robust", "depends_on",
                        "tied_with", "text"}
    assert rec["objective"] == "dso" and rec["policy"] in out["policies"]
    assert rec["constraints"] == [{"text": "churned_customers<=1000", "met": True, "binds": False, "excludes": [],
                                   "close": False}]
    assert rec["robust"] is None and rec["depends_on"] == []
    # The same content under two names has a paired difference of exactly zero: tied whenever one is chosen.
    if rec["policy"] in ("ladder", "ladder-again"):
        assert ({"ladder", "ladder-again"} - {rec["policy"]}) <= set(rec["tied_with"])
    assert json.loads(real.to_json())["recommendation"]["objective"] == "net_value"


def test_with_recommendation_refuses_bad_input_before_anything_else(real):
    with pytest.raises(RecommendError, match="'dso=45'"):
        real.with_recommendation(constraints=["dso=45"])
    with pytest.raises(RecommendError, match="'nope'"):
        real.with_recommendation("nope")


def test_compare_text_starts_with_the_recommendation_and_json_carries_it(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("first", "second"))
    assert main(["compare", str(path), "--reps", "2", "--constraint", "dso<=1000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Recommendation: ")
    assert out.index("Recommendation: ") < out.index("Where net value comes from")
    assert main(["compare", str(path), "--reps", "2", "--json", "--objective", "cash_collected"]) == 0
    rec = json.loads(capsys.readouterr().out)["recommendation"]
    assert rec["objective"] == "cash_collected" and rec["policy"] in ("first", "second")


def test_run_all_text_starts_with_a_first_look_that_says_it_is_no_recommendation(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("first", "second"))
    assert main(["run", str(path), "--all", "--constraint", "dso<=1000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Recommendation: On one run each, ")
    assert "no recommendation yet" in " ".join(out.split())


@pytest.mark.parametrize("args, says", [
    (["--constraint", "dso=45"], "'dso=45'"),
    (["--objective", "profit"], "'profit'"),
])
@pytest.mark.parametrize("command", [["compare", "--reps", "2"], ["run", "--all"]])
def test_bad_objective_or_constraint_is_one_line_and_exit_code_2(tmp_path, capsys, command, args, says):
    path = write_small_scenario(tmp_path)
    assert main([command[0], str(path), *command[1:], *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1 and says in captured.err


def test_a_mean_just_inside_a_bound_never_reads_as_the_bound():
    comp = _comparison({"as-is": {"net_value": _net(0), "dso": 47.0}, "near": {"net_value": _net(1e6), "dso": 44.999}})
    rec = recommend(comp, constraints=["dso<=45"])
    assert rec.policy == "near" and "44.999 days" in rec.text and "45.0 days" not in rec.text
