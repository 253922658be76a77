"""Net value's parts travel with every result: a run's JSON, a comparison's JSON and tables, the command line's
table, the dashboard and the report's table; they add up to net value exactly in every replication."""

import json

import pandas as pd
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.present.narrative import net_value_table, report_problems
from collectsim.results.metric_info import METRIC_INFO, METRIC_NAMES, NET_VALUE_PARTS
from collectsim.results.metrics import NET_VALUE_COMPONENTS, net_value_of
from helpers import small_data, write_small_scenario


@pytest.fixture(scope="module")
def busy():
    """The small scenario with churn, new customers checked on arrival, a priced acquisition and a small team."""
    data = small_data()
    data["economics"] = {"acquisition_cost": 400.0}
    data["team"] = {"staff": 0.5}
    for seg in data["portfolio"]["segments"]:
        seg.update(churn_per_year=0.3, new_customers_per_year=10.0)
    data["policies"]["ladder"]["onboarding"] = {"credit_check": True, "refuse_share": 0.2}
    data["policies"]["gentle"] = {"reminders": {"steps": [{"offset": 14, "channel": "email", "tone": "friendly"}]}}
    return collectsim.parse_scenario(data)


@pytest.fixture(scope="module")
def comp(busy):
    return collectsim.compare(busy, ["ladder", "gentle"], reps=3, progress=False)


def test_every_part_is_a_metric_with_a_label_and_every_replication_adds_up_exactly(comp):
    assert NET_VALUE_PARTS == tuple(f"nv_{p}" for p in NET_VALUE_COMPONENTS)
    assert set(NET_VALUE_PARTS) | {"customers_at_start"} <= set(METRIC_NAMES)
    assert all(METRIC_INFO[m].kind == "value" and METRIC_INFO[m].better == "higher" for m in NET_VALUE_PARTS)
    for p in comp.policies:
        for r in comp.runs(p):
            m = r.metrics
            assert net_value_of({part: m[f"nv_{part}"] for part in NET_VALUE_COMPONENTS}) == m["net_value"]
    # The scenario exercises every part but fees.
    means = comp.to_dict()["net_value_components"]["ladder"]
    assert all(means[part] < 0 for part in ("cost_of_goods", "collection_costs", "staff_cost", "acquisition_costs",
                                            "future_margin_lost"))
    assert means["cash_collected"] > 0
    assert sum(means.values()) == pytest.approx(comp.interval("ladder", "net_value").mean, rel=1e-12)
    assert report_problems(comp) == []


def test_the_comparison_table_gives_means_and_differences_from_the_first_policy(comp, tmp_path):
    table = comp.net_value_table()
    assert table["metric"].tolist() == [m for m in (*NET_VALUE_PARTS, "net_value") for _ in comp.policies]
    gentle = table[table["policy"] == "gentle"].set_index("metric")
    for m in (*NET_VALUE_PARTS, "net_value"):
        diff = comp.difference("ladder", "gentle", m)
        assert gentle.loc[m, "first_minus_this"] == diff.mean
        assert (gentle.loc[m, "first_minus_this_lo"], gentle.loc[m, "first_minus_this_hi"]) == (diff.lo, diff.hi)
    assert table[table["policy"] == "ladder"]["first_minus_this"].isna().all()
    comp.write(tmp_path)
    written = pd.read_csv(tmp_path / "net_value.csv")
    assert set(written["unit"]) == {comp.currency}
    assert written["mean"].tolist() == pytest.approx((table["mean"] / 100).tolist())
    saved = json.loads((tmp_path / "comparison.json").read_text())
    assert list(saved["net_value_components"]["gentle"]) == list(NET_VALUE_COMPONENTS)


def test_the_table_for_people_has_a_row_per_part_and_the_net_value(comp):
    table = net_value_table(comp)
    assert table["part of net value"].tolist() == ["cash collected", "fees", "cost of goods", "collection costs",
                                                   "staff cost", "acquisition costs", "future margin lost",
                                                   "net value"]
    assert list(table.columns) == ["part of net value", "ladder", "gentle", "difference", "95% CI"]
    three = net_value_table(comp, ["gentle", "ladder", "gentle"])
    assert "gentle - ladder" in three.columns and "95% CI of gentle - ladder" in three.columns


def test_a_run_json_and_the_compare_command_show_the_parts(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("ladder", "later"))
    assert main(["run", str(path), "--policy", "ladder", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    parts = out["net_value_components"]
    assert list(parts) == list(NET_VALUE_COMPONENTS) and net_value_of(parts) == out["metrics"]["net_value"]
    assert 40 < out["metrics"]["customers_at_start"] <= 50  # 50 at first, no arrivals; a few may leave early
    assert main(["compare", str(path), "--reps", "2"]) == 0
    text = capsys.readouterr().out
    assert "Where net value comes from" in text and "cost of goods" in text and "future margin lost" in text
