"""How much common random numbers narrow the interval of a difference, for every bundled scenario and pair.

For each scenario, every policy runs 30 replications with seeds derived from 1 (paired: replication j of
every policy shares its seed) and again from 2 (independent). Per pair of policies and metric it prints
the ratio (half-width of the Welch interval of the difference from independent seeds) / (half-width of the
paired interval) -- the figure of ``tests/test_compare.py``, there for the baseline's first two policies.
Run with ``.venv/bin/python benchmarks/crn_ratios.py [--reps N] [--metrics a,b]`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import collectsim
from collectsim.stats import paired_interval, welch_interval

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--metrics", default="cash_collected,dso")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    metrics = args.metrics.split(",")
    print(f"{'scenario':22} {'policy a':16} {'policy b':16} " + " ".join(f"{m:>16}" for m in metrics))
    for path in sorted(SCENARIOS.glob("*.toml")):
        scenario = collectsim.load_scenario(path)
        names = [p.name for p in scenario.policies]
        paired = collectsim.compare(scenario, names, reps=args.reps, seed=1, workers=args.workers, progress=False)
        alone = collectsim.compare(scenario, names, reps=args.reps, seed=2, workers=args.workers, progress=False)
        for a, b in itertools.combinations(names, 2):
            ratios = [welch_interval(paired.values(a, m), alone.values(b, m)).halfwidth
                      / paired_interval(paired.values(a, m), paired.values(b, m)).halfwidth for m in metrics]
            print(f"{path.stem:22} {a:16} {b:16} " + " ".join(f"{r:16.2f}" for r in ratios), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
