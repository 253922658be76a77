"""Comparing policies: common random numbers, paired intervals, verdicts, sequential mode, partial results."""

import csv
import importlib
import json

import numpy as np
import pandas as pd
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.experiments.stats import paired_halfwidth_floor, paired_interval, welch_interval
from collectsim.model.draws import derive_seed
from collectsim.results.metric_info import METRIC_NAMES
from helpers import SCENARIOS, write_small_scenario

compare_module = importlib.import_module("collectsim.experiments.compare")  # collectsim.compare is a function
executors_module = importlib.import_module("collectsim.experiments.executors")


def test_self_comparison_gives_differences_of_exactly_zero(small):
    comp = collectsim.compare(small, ["ladder", "ladder"], reps=4, progress=False)
    assert comp.policies == ("ladder", "ladder (2)")
    diffs = comp.differences()
    assert len(diffs) == len(METRIC_NAMES)
    assert (diffs["mean"] == 0).all() and (diffs["lo"] == 0).all() and (diffs["hi"] == 0).all()
    assert not diffs["significant"].any()
    assert diffs["verdict"].str.startswith("no significant difference").all()


def test_same_content_under_another_name_gives_identical_replications(small):
    policy = small.policy("ladder")
    twin = collectsim.PolicySpec(**{**policy.__dict__, "name": "twin"})
    comp = collectsim.compare(small, [policy, twin], reps=3, progress=False)
    for a, b in zip(comp.runs("ladder"), comp.runs("twin")):
        assert a.seed == b.seed and a.metrics == b.metrics
        assert np.array_equal(a.cumulative_cash, b.cumulative_cash)
        assert np.array_equal(a.final_goodwill, b.final_goodwill)


def test_replications_use_common_seeds_that_differ_between_replications(small):
    comp = collectsim.compare(small, reps=3, seed=5, progress=False)
    assert [r.seed for r in comp.runs("ladder")] == [derive_seed(5, j) for j in range(3)]
    assert len({r.metrics["cash_collected"] for r in comp.runs("ladder")}) == 3


@pytest.fixture(scope="module")
def crn_ratios():
    """Half-width of the independent-seed CI over the paired (CRN) CI, baseline's first two policies, 30 reps."""
    baseline = collectsim.load_scenario(SCENARIOS / "baseline.toml")
    a, b = baseline.policies[0].name, baseline.policies[1].name
    crn = collectsim.compare(baseline, [a, b], reps=30, seed=1, workers=2, progress=False)
    independent_b = collectsim.compare(baseline, [b], reps=30, seed=2, workers=2, progress=False)
    assert not {r.seed for r in crn.runs(a)} & {r.seed for r in independent_b.runs(b)}
    ratios = {}
    for metric in ("cash_collected", "dso"):
        paired = paired_interval(crn.values(a, metric), crn.values(b, metric))
        unpaired = welch_interval(crn.values(a, metric), independent_b.values(b, metric))
        ratios[metric] = unpaired.halfwidth / paired.halfwidth
        ceiling = unpaired.halfwidth / paired_halfwidth_floor(crn.values(a, metric), crn.values(b, metric))
        print(f"\n{metric}: independent-seed CI half-width / paired CI half-width = {ratios[metric]:.2f} "
              f"(perfectly correlated replications would give {ceiling:.2f})")
    return ratios


def test_common_random_numbers_narrow_the_cash_interval_at_least_threefold(crn_ratios):
    assert crn_ratios["cash_collected"] >= 3


def test_common_random_numbers_narrow_the_dso_interval(crn_ratios):
    assert crn_ratios["dso"] >= 1.5  # measured 1.73 (deterministic: fixed seeds; 2.05 before core II's later behaviour)


@pytest.mark.xfail(strict=True, reason=(
    "Known gap (issue 4 acceptance): CRN narrows the DSO interval about 1.7x, not 3x, on the baseline. The policies' "
    "effect on DSO itself varies between replications, mostly through the invoices customers set aside "
    "(ignore_share), where the two ladders differ most: measured (30 reps, this test's seeds) with ignore_share 0 in "
    "every segment the ratio is 2.6x (dso_simple 3.2x); with invoice amounts nearly equal (sigma 0.2) 1.7x; without "
    "goodwill-driven ordering 1.9x; without churn 1.7x. No pairing can do much better: DSO's sd across these "
    "replications is 0.99 under as-is and 0.59 under firm-and-fair, a paired difference's sd is at least their "
    "difference (stats.paired_halfwidth_floor), so perfectly correlated replications would give 3.15x, and 3x needs a "
    "correlation of 0.986 between the two policies' DSO (measured 0.68). Not tuned away. Strict: fails once it "
    "passes."))
def test_common_random_numbers_narrow_the_dso_interval_threefold(crn_ratios):
    assert crn_ratios["dso"] >= 3


def test_json_has_the_documented_shape(small):
    out = json.loads(collectsim.compare(small, reps=2, progress=False).to_json())
    assert {"scenario", "seed", "reps", "partial", "policies", "metrics", "differences"} <= out.keys()
    assert out["policies"] == ["ladder"] and out["reps"] == 2 and out["partial"] is False
    assert set(out["metrics"]["ladder"]["dso"]) == {"mean", "lo", "hi"}
    assert out["differences"] == []  # one policy: no pairs


def test_one_replication_has_no_interval_and_says_so(small):
    comp = collectsim.compare(small, ["ladder", "ladder"], reps=1, progress=False)
    out = json.loads(comp.to_json())
    assert out["metrics"]["ladder"]["dso"]["lo"] is None
    assert "no interval" in comp.differences()["verdict"].iloc[0]


def test_sequential_mode_stops_when_a_loose_target_is_met(small):
    comp = collectsim.compare(small, ["ladder", "ladder"], reps=3, target_halfwidth=1e12, metric="dso",
                              progress=False)
    assert comp.sequential.met and comp.sequential.reps == comp.reps == 3
    assert "target met" in comp.sequential.describe()
    assert json.loads(comp.to_json())["sequential"]["reps"] == 3


def test_sequential_mode_reports_when_the_maximum_is_reached(small):
    policy = small.policy()
    other = policy.with_values({"name": "other", "discount.rate": 0.02})
    comp = collectsim.compare(small, [policy, other], reps=2, target_halfwidth=1e-9, metric="dso", max_reps=6,
                              progress=False)
    assert not comp.sequential.met and comp.reps == 6
    assert "maximum of 6 replications reached" in comp.sequential.describe()


def test_sequential_mode_adds_replications_until_the_target_holds(small):
    policy = small.policy()
    other = policy.with_values({"name": "other", "discount.rate": 0.02})
    first = collectsim.compare(small, [policy, other], reps=10, progress=False)
    # The first 10 replications of the sequential run are these same ones, so 10 cannot meet the target.
    target = 0.8 * first.difference("ladder", "other", "dso").halfwidth
    comp = collectsim.compare(small, [policy, other], reps=5, target_halfwidth=target, metric="dso",
                              max_reps=80, progress=False)
    assert comp.sequential.met and comp.reps > 10
    assert comp.difference("ladder", "other", "dso").halfwidth <= target


def _interrupt_at_unit(monkeypatch, n: int) -> None:
    """Make the n-th unit of work (a replication or a batch) raise KeyboardInterrupt, as Ctrl-C would."""
    calls = {"n": 0}
    real = compare_module.run_unit

    def interrupted(unit):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(unit)

    monkeypatch.setattr(compare_module, "run_unit", interrupted)


def test_interrupt_returns_the_finished_replications_marked_partial(small, monkeypatch):
    _interrupt_at_unit(monkeypatch, 5)
    policy = small.policy()
    comp = collectsim.compare(small, [policy, policy.with_values({"name": "b"})], reps=4, progress=False,
                              engine="simpy")  # one unit per replication
    assert comp.partial is True
    assert comp.reps == 2  # replications 0 and 1 finished for both policies; 2 only for one
    assert json.loads(comp.to_json())["partial"] is True


def test_an_interrupted_batched_job_keeps_only_what_both_policies_finished(small, monkeypatch):
    _interrupt_at_unit(monkeypatch, 3)
    policy = small.policy()
    other = policy.with_values({"name": "b", "reminders.steps": [{"offset": 20}]})  # a target it cannot meet
    comp = collectsim.compare(small, [policy, other], reps=4, workers=None, progress=False, engine="compiled",
                              target_halfwidth=1e-9, max_reps=12)
    # Rounds of 4 replications, one batch holding both policies per round: rounds 1 and 2 (units 1-2)
    # finished, round 3 (unit 3) was cut, so 8 paired replications stand.
    assert comp.partial is True and comp.reps == 8
    assert [r.rep for r in comp.runs(policy.name)] == [r.rep for r in comp.runs("b")] == list(range(8))


def test_a_script_without_the_main_guard_gets_told_how_to_fix_it(tmp_path):
    """Spawned workers import the script again; without the guard they fail, and the error says why."""
    import subprocess
    import sys

    scenario = write_small_scenario(tmp_path, policy_names=("ladder", "later"))
    script = tmp_path / "no_guard.py"
    script.write_text("import collectsim\n"
                      f"scenario = collectsim.load_scenario({str(scenario)!r})\n"
                      "collectsim.compare(scenario, ['ladder', 'later'], reps=2, workers=2, progress=False)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    # The error is the traceback's last line; Python's resource tracker may print a warning after it at exit.
    said = [line for line in done.stderr.strip().splitlines()
            if line.startswith("collectsim.experiments.executors.WorkersFailed:")]
    assert said and 'if __name__ == "__main__":' in said[-1]
    assert "bootstrapping phase" in done.stderr  # Python's own message, from the worker


def test_the_command_line_reports_dead_workers_in_one_line(tmp_path, capsys, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    def dies(task):
        raise BrokenProcessPool("a worker died")

    monkeypatch.setattr(compare_module, "run_unit", dies)
    path = write_small_scenario(tmp_path, policy_names=("ladder", "later"))
    assert main(["compare", str(path), "--reps", "2", "--json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: a worker process stopped before finishing")


@pytest.mark.parametrize("workers", [None, 2])
def test_batches_on_the_compiled_engine_give_the_same_comparison_as_simpy(small, workers):
    policy = small.policy()
    policies = [policy, policy.with_values({"name": "later", "reminders.steps": [{"offset": 20}]})]
    simpy = collectsim.compare(small, policies, reps=5, workers=workers, progress=False, engine="simpy")
    batched = collectsim.compare(small, policies, reps=5, workers=workers, progress=False, engine="compiled")
    assert batched.to_json() == simpy.to_json()
    assert [r.seed for r in batched.runs("later")] == [r.seed for r in simpy.runs("later")]


def test_executors_give_identical_json(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("ladder", "later"))
    outputs = {}
    for option in (["--workers", "1"], ["--workers", "2"], ["--dask", "local"]):
        assert main(["compare", str(path), "--reps", "3", "--json", *option]) == 0
        outputs[option[-1]] = capsys.readouterr().out
    assert outputs["1"] == outputs["2"] == outputs["local"]
    assert json.loads(outputs["1"])["reps"] == 3


def test_compare_cli_writes_tables_and_plots(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("ladder", "later"))
    out = tmp_path / "out"
    assert main(["compare", str(path), "--policies", "ladder,later", "--reps", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 policies x 2 replications" in text and "collects" in text or "no significant" in text
    for name in ("summary.csv", "differences.csv", "replications.csv", "comparison.json", "cash_curve.png",
                 "aging.png", "relationships.png", "cash_difference.png", "cash_vs_goodwill.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "cash_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_mode_prints_only_json_and_no_progress(tmp_path, capsys):
    path = write_small_scenario(tmp_path)
    assert main(["compare", str(path), "--reps", "2", "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert captured.err == ""


def test_unknown_policy_or_metric_is_a_one_line_error(tmp_path, capsys):
    path = write_small_scenario(tmp_path)
    assert main(["compare", str(path), "--policies", "ladder,nope"]) == 2
    assert "no such policy" in capsys.readouterr().err
    assert main(["compare", str(path), "--target-halfwidth", "1", "--metric", "speed"]) == 2
    assert "unknown metric" in capsys.readouterr().err


def test_formula_like_names_read_back_escaped_from_csv(tmp_path, capsys):
    path = write_small_scenario(tmp_path, segment_names=("=SUM(A1:A9)", "+late"), policy_names=("@cmd", "-x"))
    scenario = collectsim.load_scenario(path)
    assert [s.name for s in scenario.portfolio.segments] == ["=SUM(A1:A9)", "+late"]
    out = tmp_path / "cmp"
    assert main(["compare", str(path), "--reps", "2", "--out", str(out)]) == 0
    with open(out / "summary.csv", newline="") as fh:
        policies = {row["policy"] for row in csv.DictReader(fh)}
    assert policies == {"'@cmd", "'-x"}
    with open(out / "differences.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["a"] for r in rows} == {"'@cmd"} and all(r["verdict"][0] not in "=+-@" for r in rows)
    assert main(["run", str(path), "--policy", "@cmd", "--out", str(tmp_path / "run")]) == 0
    with open(tmp_path / "run" / "customers.csv", newline="") as fh:
        segments = {row["segment"] for row in csv.DictReader(fh)}
    assert segments == {"'=SUM(A1:A9)", "'+late"}
    capsys.readouterr()


@pytest.mark.parametrize("path", [SCENARIOS / "baseline.toml"])
def test_headline_verdicts_cover_cash_and_relationship(path):
    comp = collectsim.compare(collectsim.load_scenario(path), ["as-is", "discount-led"], reps=2, progress=False)
    lines = comp.headline()
    assert len(lines) == 6
    assert "cash" in lines[0] and "DSO" in lines[1] and "goodwill" in lines[4]


@pytest.mark.parametrize("option", [["--reps", "0"], ["--reps", "x"], ["--target-halfwidth", "-1"],
                                    ["--workers", "0"], ["--max-reps", "0"]])
def test_bad_numbers_on_the_command_line_are_refused(tmp_path, capsys, option):
    path = write_small_scenario(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["compare", str(path), *option])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith(f"collectsim compare: error: argument {option[0]}")
    assert "Traceback" not in err


def test_the_progress_bar_counts_replications_not_batches(small, monkeypatch):
    totals = []

    class Recorder:
        def __init__(self, total, **kwargs):
            self.total, self.n = total, 0
            totals.append(self)

        def update(self, n=1):
            self.n += n

        def close(self):
            pass

    monkeypatch.setattr(executors_module, "tqdm", Recorder)
    policy = small.policy()
    collectsim.compare(small, [policy, policy.with_values({"name": "b"})], reps=3, progress=True, engine="compiled")
    assert [(bar.total, bar.n) for bar in totals] == [(6, 6)]  # 2 policies x 3 replications, in 2 batches


def test_csv_tables_are_for_people_money_in_currency_units_shares_in_percent(tmp_path, small):
    comp = collectsim.compare(small, reps=2, progress=False)
    comp.write(tmp_path)
    summary = pd.read_csv(tmp_path / "summary.csv").set_index(["policy", "metric"])
    means = comp.summary().set_index(["policy", "metric"])["mean"]
    policy = comp.policies[0]
    cash, bad_debt = summary.loc[(policy, "cash_collected")], summary.loc[(policy, "bad_debt_ratio")]
    assert cash["unit"] == comp.currency and cash["mean"] == pytest.approx(means[(policy, "cash_collected")] / 100)
    assert bad_debt["unit"] == "%" and bad_debt["mean"] == pytest.approx(100 * means[(policy, "bad_debt_ratio")])
    assert summary.loc[(policy, "dso"), "unit"] == "days"
    replications = pd.read_csv(tmp_path / "replications.csv")
    assert {f"cash_collected_{comp.currency}", "bad_debt_ratio_pct", "dso"} <= set(replications.columns)
    assert "cash_collected" not in replications.columns
    assert replications[f"cash_collected_{comp.currency}"].tolist() == pytest.approx(
        [v / 100 for v in comp.replication_table()["cash_collected"]])
