"""How much common random numbers narrow the interval of a difference, for every bundled scenario and pair.

For each scenario, every policy runs 30 replications with seeds derived from 1 (paired: replication j of
every policy shares its seed) and again from 2 (independent). Per pair of policies and metric it prints
the ratio (half-width of the Welch interval of the difference from independent seeds) / (half-width of the
paired interval) -- the figure of ``tests/test_compare.py``, there for the baseline's first two policies.
Run with ``.venv/bin/python benchmarks/crn_ratios.py [--reps N] [--metrics a,b]`` (about 2 minutes).

``--ceiling`` adds, in brackets, the most any pairing of the same replications could give. However well the
random numbers of two policies line up, the sd of the difference is at least the difference of the two
policies' sds (``|sd_a - sd_b|``, reached at correlation 1); when one policy's metric varies much more than
the other's across replications, that caps the ratio below what better pairing could ever reach.

To see where the pairing is lost, ``--scenario NAME`` keeps one scenario and ``--set TABLE.KEY=VALUE``
and ``--every-segment KEY=VALUE`` change it (TOML values; repeat them), e.g. with no feedback from
goodwill to orders and no churn::

    benchmarks/crn_ratios.py --scenario baseline --set behaviour.order_goodwill_elasticity=0 \
        --set behaviour.churn_goodwill_slope=0 --every-segment churn_per_year=0
"""

from __future__ import annotations

import argparse
import itertools
import tomllib
from pathlib import Path

import collectsim
from collectsim.config.scaled import scaled_scenario
from collectsim.config.schema import ScenarioError
from collectsim.experiments.stats import paired_halfwidth_floor, paired_interval, welch_interval

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--metrics", default="cash_collected,dso")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ceiling", action="store_true",
                        help="also print the ratio a perfectly correlated pairing would give (see above)")
    parser.add_argument("--scenario", help="only this bundled scenario (file stem)")
    parser.add_argument("--set", action="append", default=[], metavar="TABLE.KEY=VALUE",
                        help="change a key of a top-level table, e.g. behaviour.order_goodwill_elasticity=0")
    parser.add_argument("--every-segment", action="append", default=[], metavar="KEY=VALUE",
                        help="change a key of every segment, e.g. churn_per_year=0")
    args = parser.parse_args(argv)
    metrics = args.metrics.split(",")
    tables: dict[str, dict] = {}
    for item in args.set:
        key, value = _assignment(item)
        table, _, name = key.partition(".")
        tables.setdefault(table, {})[name] = value
    every = dict(_assignment(item) for item in args.every_segment)
    paths = sorted(SCENARIOS.glob("*.toml"))
    if args.scenario:
        paths = [p for p in paths if p.stem == args.scenario]
        if not paths:
            parser.error(f"no bundled scenario {args.scenario!r}")
    print(f"{'scenario':22} {'policy a':16} {'policy b':16} " + " ".join(f"{m:>16}" for m in metrics))
    for path in paths:
        scenario = collectsim.load_scenario(path)
        if tables or every:
            segments = {seg.name: every for seg in scenario.portfolio.segments}
            try:
                scenario = scaled_scenario(path, scenario.portfolio.customer_count, tables, segments)
            except ScenarioError as exc:
                parser.error(str(exc))
        names = [p.name for p in scenario.policies]
        paired = collectsim.compare(scenario, names, reps=args.reps, seed=1, workers=args.workers, progress=False)
        alone = collectsim.compare(scenario, names, reps=args.reps, seed=2, workers=args.workers, progress=False)
        for a, b in itertools.combinations(names, 2):
            cells = []
            for m in metrics:
                welch = welch_interval(paired.values(a, m), alone.values(b, m)).halfwidth
                ratio = welch / paired_interval(paired.values(a, m), paired.values(b, m)).halfwidth
                cell = f"{ratio:.2f}"
                if args.ceiling:
                    floor = paired_halfwidth_floor(paired.values(a, m), paired.values(b, m))
                    cell += f" (<={welch / floor:.2f})" if floor else " (<=inf)"
                cells.append(f"{cell:>16}")
            print(f"{path.stem:22} {a:16} {b:16} " + " ".join(cells), flush=True)
    return 0


def _assignment(item: str) -> tuple[str, object]:
    """``key=value`` with the value read as TOML (numbers, booleans, quoted strings)."""
    key, sep, value = item.partition("=")
    if not sep:
        raise SystemExit(f"error: expected KEY=VALUE, got {item!r}")
    try:
        return key.strip(), tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        raise SystemExit(f"error: {item!r}: the value is not a TOML value (quote text: key='\"text\"')") from None


if __name__ == "__main__":
    raise SystemExit(main())
