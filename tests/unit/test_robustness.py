"""Robustness of verdicts: the assumptions varied, the labels robust / depends on, the command line's output."""

import csv
import importlib
import json

import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.config.schema import Spec
from collectsim.experiments.robustness import DIMENSIONS, MIN_REPS, Dimension, _derive, robustness, scenario_value
from collectsim.experiments.robustness import settings as settings_of
from collectsim.experiments.stats import Interval
from collectsim.experiments.verdicts import verdict_kind
from collectsim.results.metric_info import HEADLINE
from helpers import SCENARIOS, small_data, write_small_scenario

AGENCY = next(d for d in DIMENSIONS if d.name == "agency success")


def _two_policies(first: dict, second: dict, **behaviour) -> collectsim.Scenario:
    data = small_data()
    data["policies"] = {"first": first, "second": second}
    if behaviour:
        data["behaviour"] = behaviour
    return collectsim.parse_scenario(data)


NOTHING = {"reminders": {"steps": []}, "write_off": {"age_days": 120}}
LADDER = small_data()["policies"]["ladder"]


@pytest.mark.parametrize("path", ["baseline.toml", "seasonal.toml", "large-manufacturers.toml"])
def test_every_dimension_is_a_scenario_key_with_low_below_central_below_high_in_its_range(path):
    scenario = collectsim.load_scenario(SCENARIOS / path)
    assert len({d.name for d in DIMENSIONS}) == len(DIMENSIONS)
    for dim in DIMENSIONS:
        assert dim.keys and dim.why
        levels = dim.levels(scenario)
        for key in dim.keys:
            central, spec = scenario_value(scenario, key)  # raises for a key the schema does not declare
            assert levels["central"][key] == central
            assert levels["low"][key] < central < levels["high"][key], (dim.name, key)
            assert spec.low <= levels["low"][key] and levels["high"][key] <= spec.high, (dim.name, key)


def test_low_and_high_are_derived_and_clipped_to_the_allowed_range():
    probability = Spec(doc="", low=0, high=1)
    assert _derive(0.5, 0.5, "odds", probability) == pytest.approx(1 / 3)
    assert _derive(0.5, 2.0, "odds", probability) == pytest.approx(2 / 3)
    assert _derive(0.4, 2.0, "factor", Spec(doc="", low=0, high=0.5)) == 0.5  # clipped
    assert _derive(0.0, 2.0, "factor", probability) == 0.0  # a factor of 0 stays 0
    assert _derive(1.0, 0.5, "odds", probability) == 1.0  # certain stays certain
    assert _derive(3.0, 0.1, "factor", Spec(doc="", low=1, high=10, low_exclusive=False)) == 1.0
    assert _derive(180, 0.5, "factor", Spec(doc="", low=1, high=3650)) == 90 and isinstance(
        _derive(180, 0.5, "factor", Spec(doc="", low=1, high=3650)), int)
    assert _derive(7.0, 3.0, "values", Spec(doc="", low=0, high=50)) == 3.0


def test_a_key_the_schema_does_not_declare_is_refused(small):
    with pytest.raises(collectsim.ScenarioError, match="not a scenario key"):
        settings_of(small, [Dimension("nonsense", ("behaviour.no_such_key",), 0.5, 2.0)])
    with pytest.raises(collectsim.ScenarioError, match="numeric keys only"):
        settings_of(small, [Dimension("a table", ("behaviour.response",), 0.5, 2.0)])


def test_verdict_kind_reads_the_interval_as_verdict_does():
    assert verdict_kind(Interval(2.0, 1.0, 3.0, 5), "cash_collected") == "better"
    assert verdict_kind(Interval(2.0, 1.0, 3.0, 5), "dso") == "worse"
    assert verdict_kind(Interval(-2.0, -3.0, -1.0, 5), "churned_customers") == "better"
    assert verdict_kind(Interval(2.0, -1.0, 5.0, 5), "cash_collected") == "not significant"
    assert verdict_kind(Interval(2.0, 1.0, 3.0, 5), "invoices") == "higher"
    assert verdict_kind(Interval(2.0, float("nan"), float("nan"), 1), "cash_collected") == "not significant"


def test_agency_success_cannot_matter_when_no_policy_uses_an_agency_so_every_verdict_is_robust_to_it():
    scenario = _two_policies(NOTHING, LADDER)
    assert not any(p.escalation.agency for p in scenario.policies)
    # Check that it cannot matter: every replication's every metric is the same at its low and high value.
    levels = AGENCY.levels(scenario)
    central = collectsim.compare(scenario, reps=MIN_REPS, progress=False).replication_table()
    for level in ("low", "high"):
        moved = scenario.with_values(levels[level])
        assert moved.behaviour.agency_success != scenario.behaviour.agency_success
        assert collectsim.compare(moved, reps=MIN_REPS, progress=False).replication_table().equals(central)
    rob = robustness(scenario, reps=MIN_REPS, progress=False, dimensions=[AGENCY])
    assert [(lab.b, lab.metric) for lab in rob.labels] == [("second", m) for m in HEADLINE]
    assert all(lab.robust and lab.depends_on == () for lab in rob.labels)
    assert {len(lab.verdicts) for lab in rob.labels} == {3}


def test_a_verdict_that_the_churn_slope_reverses_depends_on_churn_response():
    # Final notices by phone every week lower goodwill; whether that loses customers is exactly the churn slope:
    # at 0 goodwill does not move churn (no difference), at 14 (double the default) it does.
    harsh = {"reminders": {"steps": [{"offset": d, "channel": "phone", "tone": "final"} for d in range(1, 60, 7)]},
             "write_off": {"age_days": 120}}
    scenario = _two_policies(NOTHING, harsh)
    churn = Dimension("churn response", ("behaviour.churn_goodwill_slope",), 0.0, 14.0, "values", "test")
    rob = robustness(scenario, reps=MIN_REPS, progress=False, dimensions=[churn])
    label = next(lab for lab in rob.labels if lab.metric == "churned_customers")
    verdicts = dict(label.verdicts)
    assert verdicts["churn response low"] == "not significant"
    assert verdicts["churn response high"] == "worse"
    assert not label.robust and label.depends_on == ("churn response",)
    row = rob.to_frame().set_index("metric").loc["churned_customers"]
    assert not row["robust"] and row["depends_on"] == "churn response"


def test_the_same_seed_gives_the_same_labels_and_compare_reuses_its_replications_as_the_central_setting():
    scenario = _two_policies(NOTHING, LADDER)
    alone = robustness(scenario, reps=MIN_REPS, seed=3, progress=False)
    again = robustness(scenario, reps=MIN_REPS, seed=3, progress=False)
    comp = collectsim.compare(scenario, reps=MIN_REPS, seed=3, progress=False, robustness=True)
    assert alone.labels == again.labels == comp.robustness.labels
    assert alone.settings == comp.robustness.settings
    assert len(alone.settings) == 1 + 2 * len(DIMENSIONS)


def test_fewer_replications_than_the_minimum_are_raised_to_it(small):
    comp = collectsim.compare(_two_policies(NOTHING, LADDER), reps=2, progress=False, robustness=True)
    assert comp.reps == 2 and comp.robustness.reps == MIN_REPS
    assert collectsim.compare(small, reps=2, progress=False, robustness=True).robustness.labels == ()


def test_cli_robustness_json_has_the_documented_shape_and_out_writes_robustness_csv(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("first", "second", "third"))
    out = tmp_path / "out"
    assert main(["compare", str(path), "--reps", "5", "--robustness", "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    items = data["robustness"]
    assert [(i["a"], i["b"], i["metric"]) for i in items] == [("first", b, m) for b in ("second", "third")
                                                              for m in HEADLINE]
    for item in items:
        assert set(item) == {"a", "b", "metric", "robust", "depends_on", "verdicts"}
        assert isinstance(item["robust"], bool) and item["robust"] == (item["depends_on"] == [])
        assert set(item["depends_on"]) <= {d.name for d in DIMENSIONS}
    settings = data["robustness_settings"]
    assert settings["reps"] == 5 and not settings["partial"]
    assert [s["name"] for s in settings["settings"]] == list(items[0]["verdicts"])
    with open(out / "robustness.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(items) and rows[0]["partial"] == "False"
    assert json.loads((out / "comparison.json").read_text())["robustness"] == items


def test_cli_robustness_text_shows_a_line_per_policy_and_metric(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("first", "second"))
    assert main(["compare", str(path), "--reps", "5", "--robustness"]) == 0
    text = capsys.readouterr().out
    assert "Robustness of each verdict against first" in text
    table = [line for line in text.splitlines() if line.startswith("  second ")]
    assert len(table) == len(HEADLINE)
    assert all(line.rstrip().endswith("robust") or "depends on" in line for line in table)
    assert "assumptions (low / central / high): order elasticity 0.15 / 0.3 / 0.6" in text
    assert "--robustness" in main_help(capsys)


def main_help(capsys) -> str:
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    return capsys.readouterr().out


def test_an_interrupted_check_is_marked_partial_and_keeps_the_settings_that_finished(monkeypatch):
    module = importlib.import_module("collectsim.experiments.robustness")
    real = module.run_all

    def half_then_ctrl_c(fn, tasks, *args, **kwargs):
        real(fn, tasks[:len(tasks) // 2], *args, **kwargs)
        return True

    monkeypatch.setattr(module, "run_all", half_then_ctrl_c)
    comp = collectsim.compare(_two_policies(NOTHING, LADDER), reps=MIN_REPS, progress=False, robustness=True)
    assert comp.partial and comp.robustness.partial
    assert json.loads(comp.to_json())["robustness_settings"]["partial"] is True
    ran = {len(lab.verdicts) for lab in comp.robustness.labels}  # the settings with replications to judge
    assert len(ran) == 1 and 1 < ran.pop() < len(comp.robustness.settings)


def test_every_setting_of_a_run_from_an_open_ledger_still_starts_from_it():
    """The settings vary behaviour only, so runs from an open ledger keep their opening book at every setting
    (rebuilding a scenario from its tables drops the book)."""
    from collectsim.experiments.robustness import at_setting
    from helpers import small_history

    scenario, ledger = small_history(seed=3, days=300)
    opened = collectsim.from_open_ledger(scenario, ledger, measured_days=60, runoff_days=30)
    for setting in settings_of(opened):
        changed = at_setting(opened, setting)
        assert changed.opening is opened.opening, setting.name
        for key, value in setting.values:
            assert scenario_value(changed, key)[0] == pytest.approx(value), (setting.name, key)
