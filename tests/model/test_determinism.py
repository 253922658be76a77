"""Same scenario, policy and seed give byte-identical results, in one process or many."""

import subprocess
import sys

from collectsim.apps.cli import main
from helpers import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")


def _json(capsys, *args):
    assert main(["run", BASELINE, "--json", *args]) == 0
    return capsys.readouterr().out


def test_same_seed_gives_byte_identical_json_in_process_and_in_another_process(capsys):
    first = _json(capsys, "--seed", "11", "--policy", "firm-and-fair")
    second = _json(capsys, "--seed", "11", "--policy", "firm-and-fair")
    assert first == second
    other = subprocess.run([sys.executable, "-m", "collectsim.apps.cli", "run", BASELINE, "--json", "--seed", "11",
                            "--policy", "firm-and-fair"], capture_output=True, text=True, timeout=300, check=True)
    assert other.stdout == first


def test_different_seeds_differ(capsys):
    assert _json(capsys, "--seed", "1", "--policy", "as-is") != _json(capsys, "--seed", "2", "--policy", "as-is")


def test_json_has_the_promised_keys(capsys):
    import json

    out = json.loads(_json(capsys, "--seed", "3"))
    assert {"scenario", "policy", "seed", "metrics"} <= out.keys()
    assert out["policy"] == "as-is" and out["seed"] == 3 and out["scenario"] == "baseline"
    required = ("dso dso_simple best_possible_dso add cei bad_debt_ratio cost_to_collect cash_collected "
                "fees_collected invoiced discounts_granted credit_notes settlements_forgiven written_off "
                "outstanding npv net_value mean_goodwill churned_customers margin_lost_to_churn recovery_rate "
                "staff_utilisation mean_wait_days").split()
    assert set(required) <= out["metrics"].keys()
