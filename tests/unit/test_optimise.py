"""The optimiser: lever syntax, the race's budget, a synthetic scenario whose best lever value is known, determinism,
honest selection on fresh seeds, Ctrl-C, the strategy file it writes and the command line.

The synthetic scenario (:func:`_known_optimum`) is the small test portfolio with every path from one invoice to
another cut: goodwill moves neither orders, churn nor the answer to reminders (``order_goodwill_elasticity``,
``churn_goodwill_slope`` and ``goodwill_response_weight`` 0), nobody queues (no team limit), nothing is escalated,
settled or charged. The lever is the write-off age, tried from 30 to 150 days past due, every value later than the
last reminder step (21 days), so every age sends the same reminders. With counter-based draws, an invoice's payment
day is then the same whatever the age; the age only decides whether a payment still arrives (before the write-off)
or is lost. So in every replication cash collected cannot fall as the age rises, and it rises whenever a payment
arrives between two ages (slow payers do): the best age for cash collected is the largest, 150, by construction,
whatever the other lever (the first reminder's tone, which moves cash up or down by chance and by effect) does.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.config.schema import ScenarioError
from collectsim.experiments import optimise as optimise_module
from collectsim.experiments.levers import Lever, parse_lever, parse_levers, value_at
from collectsim.experiments.optimise import fresh_seed, plan
from collectsim.model.draws import derive_seed
from helpers import small_data, write_small_scenario

AGES = "write_off.age_days=30:150:20"
TONE = "reminders.steps.0.tone=friendly,firm"


def _known_optimum() -> collectsim.Scenario:
    data = small_data()
    data["behaviour"] = {"order_goodwill_elasticity": 0.0, "churn_goodwill_slope": 0.0,
                         "goodwill_response_weight": 0.0}
    return collectsim.parse_scenario(data)


@pytest.fixture(scope="module")
def known() -> collectsim.Scenario:
    return _known_optimum()


@pytest.fixture(scope="module")
def found(known):
    return collectsim.optimise(known, "ladder", [AGES, TONE], objective="cash_collected", budget=200, seed=11,
                               holdout_reps=4, progress=False)


# --- levers -------------------------------------------------------------------------------------------------------


def test_a_range_with_a_step_keeps_whole_numbers_whole():
    assert parse_lever("reminders.steps.0.offset=-5:15:5") == Lever("reminders.steps.0.offset", (-5, 0, 5, 10, 15))
    values = parse_lever("discount.rate=0:0.03:0.01").values
    assert values == (0.0, 0.01, 0.02, 0.03) and all(isinstance(v, float) for v in values)
    assert parse_lever("write_off.age_days=100:200:30").values == (100, 130, 160, 190)  # HI only when a step lands


def test_a_range_without_a_step_takes_five_values_and_a_list_takes_words():
    assert parse_lever("write_off.age_days=100:200").values == (100, 125, 150, 175, 200)
    assert parse_lever("discount.rate=0:0.02").values == (0.0, 0.005, 0.01, 0.015, 0.02)
    assert parse_lever("reminders.steps.1.tone=friendly, firm,final").values == ("friendly", "firm", "final")
    assert parse_lever("fees.enforce=true,false").values == (True, False)
    assert parse_lever("discount.window_days=10").values == (10,)


@pytest.mark.parametrize("text, said", [
    ("discount.rate", "write KEY=LO:HI"),
    ("=0:1", "write KEY=LO:HI"),
    ("discount.rate=0:x", "discount.rate = '0:x': LO, HI and STEP must be numbers"),
    ("discount.rate=0.03:0.01", "HI (0.01) must be at least LO (0.03)"),
    ("discount.rate=0:0.03:0", "STEP (0) must be above 0"),
    ("discount.rate=0:1:2:3", "must be numbers"),
    ("write_off.age_days=1:100000:1", "at most 1000 per lever"),
    ("reminders.steps.0.tone=friendly,,firm", "an empty value"),
    ("discount rate=0:1", "must be a dotted policy key"),
])
def test_bad_lever_syntax_is_one_line_naming_it(text, said):
    with pytest.raises(ScenarioError) as err:
        parse_lever(text)
    assert said in str(err.value) and "\n" not in str(err.value)


def test_a_key_given_twice_is_refused():
    with pytest.raises(ScenarioError, match="discount.rate: the key is given twice"):
        parse_levers(["discount.rate=0,0.01", "discount.rate=0.02"])


def test_value_at_reads_list_items(small):
    ladder = small.policy("ladder")
    assert value_at(ladder, "reminders.steps.2.tone") == "firm"
    assert value_at(ladder, "write_off.age_days") == 120
    assert value_at(ladder, "reminders.steps.0.cost") is None  # not set: the channel's cost applies


@pytest.mark.parametrize("lever, said", [
    ("discount.rat=0,0.01", "lever: discount.rat = 0"),
    ("discount.rate=0:0.4:0.1", "lever: discount.rate = 0.3: must be a number from 0 to 0.2"),
    ("reminders.steps.5.offset=1:3", "reminders.steps.5.offset = 1: no item 5"),
])
def test_an_unknown_key_or_a_value_never_allowed_fails_before_any_run(small, lever, said, monkeypatch):
    monkeypatch.setattr(optimise_module, "run_all", lambda *a, **k: pytest.fail("ran before checking the levers"))
    with pytest.raises(ScenarioError) as err:
        collectsim.optimise(small, "ladder", [lever], budget=100, progress=False)
    assert said in str(err.value)


def test_a_value_valid_only_with_another_lever_is_kept(small):
    """Step 1's offset may pass step 2's (21) only when step 2 moves too: those grid points are skipped, not fatal."""
    res = collectsim.optimise(small, "ladder", ["reminders.steps.1.offset=10,30", "reminders.steps.2.offset=21,40"],
                              budget=60, holdout_reps=2, progress=False)
    assert res.invalid == 1 and res.candidates == 4  # (30, 21) is no policy; three challengers and the start


# --- the race -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("available, budget", [(1, 6), (5, 100), (18, 260), (99, 1960), (500, 1960), (3, 10_000)])
def test_the_plan_never_spends_more_than_its_budget(available, budget):
    p = plan(available, budget)
    assert p.runs <= budget and p.new_reps[0] >= 3 and p.challengers[0] <= available and p.challengers[-1] == 1
    assert all(a >= b for a, b in zip(p.challengers, p.challengers[1:]))


def test_a_budget_too_small_for_the_fresh_comparison_is_refused(small):
    with pytest.raises(ScenarioError, match="budget = 40: too small: at least 46"):
        collectsim.optimise(small, "ladder", ["discount.rate=0,0.01"], budget=40, progress=False)


def test_the_optimiser_finds_the_known_best_write_off_age(found, known):
    """See the module's docstring: the best age for cash collected is 150 by construction."""
    assert found.best_values["write_off.age_days"] >= 130  # within one grid step of 150
    assert found.best_policy.write_off.age_days == found.best_values["write_off.age_days"]
    assert found.improved and found.feasible and not found.partial
    # The construction holds in the search's own numbers: in every replication the highest age collects the most.
    h = found.history
    first = h[h["rung"] == 1]
    for tone, rows in first.groupby("lever:reminders.steps.0.tone"):
        by_age = rows.set_index("lever:write_off.age_days")["mean"].sort_index()
        assert by_age.is_monotonic_increasing and by_age.iloc[-1] > by_age.iloc[0], tone


def test_the_budget_is_respected_and_the_history_is_the_race(found):
    fresh = 2 * found.comparison.reps
    assert found.search_runs + fresh <= found.budget == 200
    h = found.history
    assert list(h.columns[:4]) == ["candidate", "start", "lever:write_off.age_days", "lever:reminders.steps.0.tone"]
    assert h.groupby("rung")["reps"].nunique().eq(1).all()  # every candidate of a round on the same replications
    assert (h.groupby("rung").size().diff().dropna() < 0).all()  # fewer candidates each round
    assert h[h["start"]]["rung"].tolist() == sorted(h["rung"].unique())  # the start races in every round
    assert not h[h["rung"] == h["rung"].max()]["eliminated"].any()
    assert found.search_runs == int((h.groupby("rung")["reps"].first().diff().fillna(h["reps"].min())
                                     * h.groupby("rung").size()).sum())


def test_the_gain_is_re_estimated_on_fresh_seeds_disjoint_from_the_search(found):
    search = set(found.search_seeds)
    assert search == {derive_seed(11, j) for j in range(found.history["reps"].max())}
    fresh = set(found.comparison.replication_table()["seed"])
    assert fresh == {derive_seed(fresh_seed(11), j) for j in range(4)} and len(fresh) == 4
    assert not fresh & search
    assert found.comparison.policies == ("ladder", "ladder-optimised")
    assert "re-estimated on 4 fresh replications with seeds not used in the search" in found.text
    assert "\n" not in found.text and found.comparison.recommendation().text in found.text
    assert found.to_dict()["fresh_seeds_disjoint"] is True


def test_the_same_seed_gives_the_same_search(known, found):
    again = collectsim.optimise(known, "ladder", [AGES, TONE], objective="cash_collected", budget=200, seed=11,
                                holdout_reps=4, progress=False)
    assert again.best_values == found.best_values
    pd.testing.assert_frame_equal(again.history, found.history)
    other = collectsim.optimise(known, "ladder", [AGES, TONE], objective="cash_collected", budget=200, seed=12,
                                holdout_reps=4, progress=False)
    assert not other.history["mean"].equals(found.history["mean"])


def test_a_large_grid_is_sampled_evenly_and_the_sample_is_deterministic(small):
    levers = ["reminders.steps.0.offset=-10:0:1", "discount.rate=0:0.02:0.002", "write_off.age_days=60:200:10"]
    res = collectsim.optimise(small, "ladder", levers, budget=100, holdout_reps=2, progress=False)
    assert res.grid_size == 11 * 11 * 15 and res.candidates - 1 < res.grid_size
    first = res.history[res.history["rung"] == 1]
    assert first["lever:discount.rate"].nunique() >= 8  # a Latin hypercube covers each lever's range
    assert "Latin-hypercube sample" in res.text
    assert res.search_runs + 2 * res.comparison.reps <= 100 if res.comparison else res.search_runs <= 100


def test_a_constraint_makes_a_candidate_infeasible(known):
    res = collectsim.optimise(known, "ladder", ["write_off.age_days=30:150:60"], objective="cash_collected",
                              constraints=["written_off<=0"], budget=60, holdout_reps=2, progress=False)
    assert not res.history["feasible"].any() and not res.feasible
    assert "No candidate met every constraint (written_off<=0)" in res.text


def test_when_no_challenger_beats_the_start_the_start_is_kept(small, tmp_path):
    """Reminders dearer than the channel's cost only add collection costs: the start stays best, with no fresh
    comparison (there is no gain to re-estimate), and its file says it is unchanged."""
    res = collectsim.optimise(small, "ladder", ["reminders.steps.0.cost=100,200"], objective="collection_costs",
                              budget=60, holdout_reps=2, progress=False)
    assert not res.improved and res.best_candidate == 0 and res.comparison is None and not res.partial
    assert "is the starting policy itself: no lever setting tried beat it" in res.text
    assert res.best_policy.reminders == small.policy("ladder").reminders
    assert "unchanged" in res.best_policy.description
    res.write(tmp_path)
    assert collectsim.load_strategy(tmp_path / "best-policy.toml") == res.best_policy


def test_ctrl_c_keeps_the_best_so_far_marked_partial(known, monkeypatch):
    """The second round is interrupted after its first unit of work: the result is round one's best, partial, with
    no fresh comparison, and says so."""
    real = optimise_module.run_all
    calls = []

    def interrupted_in_round_two(fn, units, ex, on_result, *args, **kwargs):
        calls.append(len(units))
        if len(calls) == 1:
            return real(fn, units, ex, on_result, *args, **kwargs)
        return real(fn, units[:1], ex, on_result, *args, **kwargs) or True

    monkeypatch.setattr(optimise_module, "run_all", interrupted_in_round_two)
    res = collectsim.optimise(known, "ladder", [AGES], objective="cash_collected", budget=120, seed=3,
                              holdout_reps=2, progress=False)
    assert len(calls) == 2 and res.partial and res.comparison is None
    assert res.best_values["write_off.age_days"] >= 130
    assert "interrupted" in res.text and "not re-estimated on fresh replications" in res.text


# --- files and the command line -----------------------------------------------------------------------------------


def test_the_best_policy_is_written_as_a_strategy_file_validate_accepts(found, tmp_path, capsys):
    paths = found.write(tmp_path)
    names = {p.name for p in paths}
    assert {"best-policy.toml", "history.csv", "summary.csv", "differences.csv", "optimise.json"} <= names
    assert collectsim.load_strategy(tmp_path / "best-policy.toml") == found.best_policy
    assert main(["validate", str(tmp_path / "best-policy.toml")]) == 0
    assert "ok (strategy 'ladder-optimised')" in capsys.readouterr().out
    history = pd.read_csv(tmp_path / "history.csv")
    assert {"mean_EUR", "rung", "reps", "feasible", "eliminated", "partial"} <= set(history.columns)
    assert json.loads((tmp_path / "optimise.json").read_text())["best_values"] == found.best_values


def test_optimise_command_writes_everything_and_prints_the_paragraph(tmp_path, capsys):
    scenario = write_small_scenario(tmp_path)
    out = tmp_path / "out"
    # A reminder that costs nothing (instead of the channel's cost) lowers collection costs and changes nothing else,
    # so a challenger beats the start and its gain is re-estimated on fresh replications.
    code = main(["optimise", str(scenario), "--from", "ladder", "--levers", "reminders.steps.0.cost=0,1",
                 "reminders.steps.0.tone=friendly,firm", "--objective", "collection_costs", "--budget", "80",
                 "--holdout-reps", "3", "--seed", "5", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert printed.startswith("Optimisation: Searched reminders.steps.0.cost, reminders.steps.0.tone of 'ladder'")
    assert "reminders.steps.0.cost = 0 (was not set)" in " ".join(printed.split())
    assert "fresh replications with seeds not used in the search" in " ".join(printed.split())
    assert (out / "history.png").is_file() and (out / "best-policy.toml").is_file()
    assert main(["validate", str(out / "best-policy.toml")]) == 0


def test_optimise_command_json(tmp_path, capsys):
    scenario = write_small_scenario(tmp_path)
    assert main(["optimise", str(scenario), "--levers", "discount.rate=0,0.01", "--budget", "60",
                 "--holdout-reps", "2", "--out", str(tmp_path / "out"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["from"] == "ladder" and data["levers"] == {"discount.rate": [0, 0.01]}
    assert data["search_runs"] + data["fresh_runs"] <= 60 and data["fresh_seeds_disjoint"]


@pytest.mark.parametrize("levers, said", [
    (["discount.rat=0:0.02:0.01"], "error: lever: discount.rat = 0.0: unknown key"),
    (["discount.rate"], "error: lever: discount.rate: write KEY=LO:HI"),
    (["write_off.age_days=10:x"], "error: lever: write_off.age_days = '10:x'"),
])
def test_optimise_command_bad_lever_is_one_line(tmp_path, capsys, levers, said):
    scenario = write_small_scenario(tmp_path)
    assert main(["optimise", str(scenario), "--levers", *levers, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(said) and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out" / "best-policy.toml").exists()


def test_optimise_command_needs_out(tmp_path, capsys):
    scenario = write_small_scenario(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["optimise", str(scenario), "--levers", "discount.rate=0,0.01"])
    assert exit_.value.code == 2 and "--out" in capsys.readouterr().err


def test_optimise_is_public():
    assert collectsim.optimise is optimise_module.optimise and "optimise" in collectsim.__all__
    assert np.isfinite(plan(5, 100).runs)
