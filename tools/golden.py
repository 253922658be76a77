"""Golden outputs: the exact results of a few fixed runs, kept in files to prove a change changed nothing.

A speed-up of the engine must leave every number as it was. The golden files pin, for the bundled
baseline at a reduced size under each of its policies (and once more with every escalation lever on and
a team short of time, so those code paths are pinned too) and two seeds: every headline metric, the
number of events of each kind, the number of invoices and a digest of the integer columns of the
event log and the invoice table (days, kinds, customers, amounts, ...). ``tests/test_golden.py``
recomputes them and compares: integers exactly, other numbers to a relative 1e-9.

When the model is changed on purpose, regenerate the files and commit them with the change::

    python tools/golden.py --write            # rewrites tests/golden/*.json
    python tools/golden.py                    # checks, printing any difference
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
from repository import repository_root

from collectsim.config.scaled import scaled_scenario
from collectsim.engines.simulate import simulate
from collectsim.results.eventlog import EventKind
from collectsim.results.run import RunResult

ROOT = repository_root()  # a build tool: it reads the repository it is run in
SCENARIO = ROOT / "scenarios" / "baseline.toml"
GOLDEN_DIR = ROOT / "tests" / "golden"
CUSTOMERS = 100  # a quarter of the baseline portfolio: every segment and mechanism, a few seconds a run
SEEDS = (1, 2)
REL_TOL = 1e-9
_INT_EVENT_COLUMNS = ("day", "kind", "customer", "invoice", "amount", "channel", "tone", "cost", "wait")
_INT_INVOICE_COLUMNS = ("customer", "seq", "segment", "issue_day", "due_day", "amount", "discount_deadline",
                        "balance")


def digest(result: RunResult) -> str:
    """SHA-256 over the integer columns of the event log and the invoice table (little-endian int64)."""
    h = hashlib.sha256()
    for name in _INT_EVENT_COLUMNS:
        h.update(np.ascontiguousarray(result.events[name], dtype="<i8").tobytes())
    for name in _INT_INVOICE_COLUMNS:
        h.update(np.ascontiguousarray(result.invoices[name], dtype="<i8").tobytes())
    return h.hexdigest()


def outcome(result: RunResult) -> dict:
    """What the golden file keeps of one run."""
    kinds = np.bincount(result.events["kind"].astype(np.int64), minlength=len(EventKind))
    return {"metrics": result.metrics.to_dict(),
            "event_counts": {k.name.lower(): int(kinds[k]) for k in EventKind},
            "invoices": len(result.invoices),
            "digest": digest(result)}


# The baseline's policies leave some of the engine unused (fees, settlements, mediation, agency, court, a
# limited team's queue), so one more case switches every lever on with a team short of time.
LEVERS_TEAM = {"staff": 0.1}
LEVERS_POLICY = {"fees.enforce": True, "settlement.offer": True, "settlement.after_days_overdue": 60,
                 "escalation.mediation": True, "escalation.agency": True, "escalation.legal": True,
                 "reminders.pause_on_dispute": True}


# Levers and habits that default to off: credit hold, onboarding checks and limits for new customers, plans
# on request with a restarting ladder, extended terms with milestones, payment runs, end-of-month terms and
# reputation spill-over.
CUSTOMER_LEVERS_POLICY = {"escalation.credit_hold": True, "escalation.credit_hold_after_days_overdue": 45,
                          "onboarding.credit_check": True, "onboarding.credit_limit": 4000.0,
                          "plans.offer": True, "plans.on_request": True, "plans.on_default": "restart",
                          "escalation.agency": True, "extended_terms.offer": True,
                          "extended_terms.after_days_overdue": 10, "extended_terms.on_default": "escalate"}
CUSTOMER_LEVERS_SEGMENTS = {"prompt": {"payment_run": "weekly", "payment_run_day": 3},
                            "habitually-late": {"terms_end_of_month": True, "new_customers_per_year": 20.0},
                            "cash-strained": {"payment_run": "monthly", "payment_run_day": 25,
                                              "new_customers_per_year": 10.0}}


def cases(customers: int = CUSTOMERS):
    """(name, scenario, policy) of every golden case: each baseline policy, all levers with a small team,
    and the customer-side levers (credit hold, onboarding, plans on request, extended terms, calendar,
    spill-over)."""
    scenario = scaled_scenario(SCENARIO, customers)
    for spec in scenario.policies:
        yield spec.name, scenario, spec
    team = scaled_scenario(SCENARIO, customers, {"team": LEVERS_TEAM})
    yield "all-levers-small-team", team, team.policy("firm-and-fair").with_values(LEVERS_POLICY)
    custom = scaled_scenario(SCENARIO, customers, {"behaviour": {"reputation_spillover": 0.1}},
                             CUSTOMER_LEVERS_SEGMENTS)
    yield "customer-levers", custom, custom.policy("as-is").with_values(CUSTOMER_LEVERS_POLICY)


def compute(customers: int = CUSTOMERS, seeds: tuple[int, ...] = SEEDS) -> dict[str, dict]:
    """Golden outcomes by case: ``{case: {"scenario", "customers", "runs": {seed: outcome}}}``."""
    return {name: {"scenario": "scenarios/baseline.toml", "customers": customers,
                   "runs": {str(seed): outcome(simulate(scenario, spec, seed=seed)) for seed in seeds}}
            for name, scenario, spec in cases(customers)}


def differences(expected, actual, path: str = "") -> list[str]:
    """Human-readable differences between two golden structures (empty when they agree)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected" for k in actual if k not in expected]
        for k in expected:
            if k in actual:
                out += differences(expected[k], actual[k], f"{path}.{k}")
        return out
    if isinstance(expected, bool) or isinstance(expected, int) and isinstance(actual, int):
        return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if math.isnan(expected) and math.isnan(actual):
            return []
        if math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=0.0) or expected == actual:
            return []
        return [f"{path}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


def path_for(policy: str, directory: Path = GOLDEN_DIR) -> Path:
    return directory / f"baseline-{policy}.json"


def write(golden: dict[str, dict], directory: Path = GOLDEN_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for policy, data in golden.items():
        path = path_for(policy, directory)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def load(policy: str, directory: Path = GOLDEN_DIR) -> dict:
    return json.loads(path_for(policy, directory).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/golden.py", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the golden files (intentional model change)")
    parser.add_argument("--dir", type=Path, default=GOLDEN_DIR, help="golden directory (default tests/golden)")
    args = parser.parse_args(argv)
    golden = compute()
    if args.write:
        for path in write(golden, args.dir):
            print(f"wrote {path}")
        return 0
    bad = []
    for policy, data in golden.items():
        bad += [f"{policy}{d}" for d in differences(load(policy, args.dir), data)]
    print("\n".join(bad) if bad else "golden outputs unchanged")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
