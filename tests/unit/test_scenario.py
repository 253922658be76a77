"""The scenario contract: bundled files, the key reference, dotted keys and per-segment overrides."""

import subprocess
import sys

import pytest
from reference import render

import collectsim
from helpers import ROOT, SCENARIOS, small_data


def test_baseline_is_an_sme_wholesaler_with_the_required_shape(baseline):
    segments = {s.name: s for s in baseline.portfolio.segments}
    assert len(segments) >= 4
    assert 200 <= baseline.portfolio.customer_count <= 1000
    assert {"late-on-purpose", "cash-strained"} <= segments.keys()
    assert segments["late-on-purpose"].days_late_mean > 2 * segments["prompt"].days_late_mean + 20
    assert segments["cash-strained"].partial_share > segments["prompt"].partial_share
    assert len(baseline.policies) >= 2
    assert baseline.policies[0].name == "as-is"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_every_bundled_scenario_loads(path):
    scenario = collectsim.load_scenario(path)
    assert scenario.policies


@pytest.mark.parametrize("path", sorted((SCENARIOS / "strategies").glob("*.toml")), ids=lambda p: p.name)
def test_every_bundled_strategy_loads(path):
    assert collectsim.load_strategy(path).name == path.stem


def test_key_reference_is_up_to_date():
    committed = (ROOT / "docs" / "scenario-keys.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/scenario-keys.md is stale: run `make docs`"
    for key in ("reminders.steps", "reminders.steps[].tone", "discount.rate", "write_off.age_days",
                "portfolio.segments[].days_late_mean", "horizon.warmup_days", "behaviour.tone_goodwill.firm"):
        assert f"`{key}`" in committed


def test_reference_renders_from_the_command_line():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "reference.py")], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.startswith("# Scenario and strategy keys")


def test_dotted_keys_change_a_policy_and_are_validated(small):
    policy = small.policy()
    changed = policy.with_values({"discount.rate": 0.03, "reminders.pause_on_dispute": False})
    assert (changed.discount.rate, changed.reminders.pause_on_dispute) == (0.03, False)
    assert policy.discount.rate == 0.0  # the original is untouched (frozen)
    with pytest.raises(collectsim.ScenarioError, match=r"discount.rate = 0.9: must be a number from 0 to 0.2"):
        policy.with_values({"discount.rate": 0.9})
    with pytest.raises(collectsim.ScenarioError, match="unknown key"):
        policy.with_values({"discount.rat": 0.01})


def test_segment_override_applies_to_its_segment_and_inherits_the_rest():
    data = small_data()
    data["policies"]["ladder"]["segments"] = {"late": {"discount": {"rate": 0.01}}}
    policy = collectsim.parse_scenario(data).policy("ladder")
    late, steady = policy.for_segment("late"), policy.for_segment("steady")
    assert late.discount.rate == 0.01 and steady.discount.rate == 0.0
    assert late.reminders == steady.reminders
    swept = policy.with_values({"write_off.age_days": 99})
    assert swept.for_segment("late").write_off.age_days == 99  # overrides inherit swept values


def test_include_paths_are_relative_to_the_scenario_file(tmp_path):
    (tmp_path / "strategies").mkdir()
    (tmp_path / "strategies" / "x.toml").write_text('[policy]\nname = "x"\ndiscount.rate = 0.01\n')
    (tmp_path / "s.toml").write_text('include_policies = ["strategies/x.toml"]\n'
                                     '[[portfolio.segments]]\nname = "a"\n')
    scenario = collectsim.load_scenario(tmp_path / "s.toml")
    assert [p.name for p in scenario.policies] == ["x"]
    assert scenario.name == "s" and scenario.policy("x").discount.rate == 0.01


def test_unknown_policy_name_lists_the_available_ones(small):
    with pytest.raises(collectsim.ScenarioError, match="available: ladder"):
        small.policy("nope")
