"""What the tests share: where things are, a small scenario in memory and as a file, a paired t-statistic.

Tests import these from here (``from helpers import ...``), never from one another or from conftest.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SCENARIOS = ROOT / "scenarios"
MALFORMED = TESTS / "malformed"  # scenario files that must fail cleanly
LEDGERS = TESTS / "ledgers"  # ledger exports, good and malformed
CALIBRATION = TESTS / "calibration"  # the known portfolio calibration must recover
SAMPLE_LEDGER = ROOT / "examples" / "sample_ledger.csv"

SMALL = {
    "name": "small",
    "seed": 7,
    "horizon": {"start_date": "2025-01-01", "warmup_days": 60, "measured_days": 180, "runoff_days": 200},
    "portfolio": {"segments": [
        {"name": "steady", "customers": 30, "orders_per_year": 12, "days_late_mean": 8.0,
         "ignore_share": 0.1, "dispute_rate": 0.08},
        {"name": "late", "customers": 20, "orders_per_year": 10, "days_late_mean": 30.0,
         "ignore_share": 0.2, "dispute_rate": 0.1, "partial_share": 0.3},
    ]},
    "policies": {
        "ladder": {"reminders": {"steps": [
            {"offset": -3, "channel": "email", "tone": "friendly"},
            {"offset": 7, "channel": "phone", "tone": "friendly"},
            {"offset": 21, "channel": "letter", "tone": "firm"}]},
            "write_off": {"age_days": 120}},
    },
}


def small_data() -> dict:
    """A fresh copy of the small scenario's tables, to edit in a test."""
    return copy.deepcopy(SMALL)


def write_small_scenario(directory: Path, segment_names=("steady", "late"), policy_names=("ladder",)) -> Path:
    """The small scenario as a TOML file (segment and policy names may be changed), for CLI tests."""
    data = small_data()
    lines = ["seed = 7", "[horizon]", "warmup_days = 30", "measured_days = 90", "runoff_days = 90"]
    for seg, name in zip(data["portfolio"]["segments"], segment_names):
        lines.append("[[portfolio.segments]]")
        lines += [f"{k} = {json.dumps(name if k == 'name' else v)}" for k, v in seg.items()]
    for i, name in enumerate(policy_names):
        lines += [f"[policies.{json.dumps(name)}]",
                  f'reminders.steps = [{{ offset = {7 + i}, channel = "email", tone = "friendly" }}]']
    path = directory / "small.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small_history(seed: int = 3, days: int = 300, policy: str = "ladder", data: dict | None = None):
    """(the small scenario, a ledger its own run exported on day ``days``): a ledger the model itself generated."""
    from collectsim import parse_scenario, simulate
    from collectsim.calibration.history import simulated_ledger

    data = data or small_data()
    data["horizon"] = {"start_date": "2025-01-01", "warmup_days": 60, "measured_days": 400, "runoff_days": 0}
    scenario = parse_scenario(data)
    return scenario, simulated_ledger(simulate(scenario, policy, seed=seed), days)


def paired_t(diffs) -> float:
    """t-statistic of paired per-seed differences (infinite, with their sign, when they do not vary)."""
    d = np.asarray(diffs, dtype=float)
    sd = d.std(ddof=1)
    return float(d.mean() / (sd / np.sqrt(len(d)))) if sd > 0 else float(np.sign(d.mean()) * np.inf)


#: Where browser tests keep their screenshots after the run (ignored by git; CI can upload the folder).
ARTIFACTS = ROOT / "build" / "test-artifacts"

#: Debian's Chromium, driven by Playwright in the browser tests (nothing is downloaded), and its flags.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
