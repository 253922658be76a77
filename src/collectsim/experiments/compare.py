"""Comparing policies: Monte Carlo replications with common random numbers and paired intervals.

A finance manager's question is never "what does policy A do" but "is A better than B, by how much,
and how sure are we". Each policy is run ``reps`` times; replication j of every policy uses the same
seed (common random numbers), so A and B meet the same customers, orders and chance events, and the
per-replication difference A - B isolates the policy's effect. Each metric gets a mean and 95%
t-interval per policy, and each pair of policies a paired-difference interval and a verdict in words.

In sequential mode replications are added in batches until every pairwise difference of the chosen
metric is known to within ``target_halfwidth`` (or ``max_reps`` is reached). Ctrl-C returns the
replications finished so far, marked ``partial``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.config.schema import ScenarioError
from collectsim.experiments.executors import ExecutorSpec, open_executor, run_all
from collectsim.experiments.replication import Replication, run_unit, runs_in, work_units
from collectsim.experiments.stats import Interval, mean_interval, paired_interval
from collectsim.experiments.verdicts import verdict
from collectsim.files.exports import write_csv
from collectsim.files.safe_output import interrupts_held, remove, save_figure, write_text
from collectsim.model.draws import derive_seed
from collectsim.results.metric_info import (
    METRIC_NAMES,
    NET_VALUE_PARTS,
    long_table_for_people,
    wide_table_for_people,
)
from collectsim.results.metrics import NET_VALUE_COMPONENTS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from collectsim.experiments.recommend import Recommendation
    from collectsim.experiments.robustness import Robustness


@dataclass(frozen=True)
class Sequential:
    """How a sequential comparison ended."""

    metric: str
    target_halfwidth: float
    met: bool
    widest_halfwidth: float
    reps: int
    max_reps: int

    def describe(self) -> str:
        if self.met:
            return (f"target met: every difference in {self.metric} known to +/- {self.widest_halfwidth:,.4g} "
                    f"(target {self.target_halfwidth:,.4g}) after {self.reps} replications")
        return (f"maximum of {self.max_reps} replications reached; widest half-width in {self.metric} is "
                f"{self.widest_halfwidth:,.4g} (target {self.target_halfwidth:,.4g})")


@dataclass(frozen=True)
class Comparison:
    """Replications of several policies on one scenario, with their statistics."""

    scenario: str
    currency: str
    seed: int
    policies: tuple[str, ...]
    replications: tuple[Replication, ...]
    partial: bool = False
    sequential: Sequential | None = None
    measured: tuple[int, int] = (0, 0)  # first and one-past-last day of the measured period
    robustness: Robustness | None = None  # the verdicts at low and high assumptions, when asked for
    objective: str = "net_value"  # what :meth:`recommendation` optimises by default (see with_recommendation)
    constraints: tuple[str, ...] = ()  # and the constraints it respects, e.g. ("dso<=45",)
    _by_label: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_label: dict[str, list[Replication]] = {p: [] for p in self.policies}
        for r in self.replications:
            by_label[r.label].append(r)
        for runs in by_label.values():
            runs.sort(key=lambda r: r.rep)
        self._by_label.update(by_label)

    @property
    def reps(self) -> int:
        """Number of complete replications (every policy has each of them)."""
        return len(self._by_label[self.policies[0]]) if self.policies else 0

    def runs(self, policy: str) -> list[Replication]:
        return self._by_label[policy]

    def values(self, policy: str, metric: str) -> list[float]:
        return [r.metrics[metric] for r in self._by_label[policy]]

    def interval(self, policy: str, metric: str) -> Interval:
        return mean_interval(self.values(policy, metric))

    def difference(self, a: str, b: str, metric: str) -> Interval:
        return paired_interval(self.values(a, metric), self.values(b, metric))

    def replication_table(self) -> pd.DataFrame:
        """One row per policy and replication, with its seed and every metric."""
        rows = [{"policy": r.label, "rep": r.rep, "seed": r.seed, **r.metrics}
                for p in self.policies for r in self._by_label[p]]
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """Mean and 95% interval of every metric for every policy (one row per policy and metric)."""
        rows = []
        for p in self.policies:
            for m in METRIC_NAMES:
                iv = self.interval(p, m)
                rows.append({"policy": p, "metric": m, "mean": iv.mean, "lo": iv.lo, "hi": iv.hi, "n": iv.n})
        return pd.DataFrame(rows)

    def differences(self) -> pd.DataFrame:
        """Paired difference a - b of every metric for every pair of policies, with a verdict."""
        rows = [self.difference_row(a, b, m) for a, b in combinations(self.policies, 2) for m in METRIC_NAMES]
        return pd.DataFrame(rows, columns=["a", "b", "metric", "mean", "lo", "hi", "significant", "verdict"])

    def difference_row(self, a: str, b: str, metric: str) -> dict:
        """One row of :meth:`differences`: the paired difference a - b of ``metric`` and its verdict."""
        iv = self.difference(a, b, metric)
        return {"a": a, "b": b, "metric": metric, "mean": iv.mean, "lo": iv.lo, "hi": iv.hi,
                "significant": iv.excludes_zero,
                "verdict": verdict(a, b, metric, iv, self.interval(b, metric).mean, self.currency)}

    def net_value_table(self) -> pd.DataFrame:
        """Where net value, and a difference in it, comes from: for each part of net value and then net value
        itself (``metric``), and each policy, the mean over replications and the paired difference first policy
        minus this one with its 95% interval (NaN on the first policy's rows). Cents, as the metrics."""
        rows = []
        first = self.policies[0] if self.policies else ""
        for m in (*NET_VALUE_PARTS, "net_value"):
            for p in self.policies:
                diff = self.difference(first, p, m) if p != first else Interval(math.nan, math.nan, math.nan, 0)
                rows.append({"metric": m, "policy": p, "mean": self.interval(p, m).mean,
                             "first_minus_this": diff.mean, "first_minus_this_lo": diff.lo,
                             "first_minus_this_hi": diff.hi})
        return pd.DataFrame(rows, columns=["metric", "policy", "mean", *_NV_DIFFERENCE])

    def with_recommendation(self, objective: str = "net_value", constraints: Sequence[str] = ()) -> Comparison:
        """The comparison with the objective and constraints its :meth:`recommendation` (and JSON) use by default;
        raises :class:`~collectsim.experiments.recommend.RecommendError` for a bad one."""
        from collectsim.experiments.recommend import check_objective, parse_constraints

        check_objective(objective)
        return replace(self, objective=objective, constraints=tuple(c.text for c in parse_constraints(constraints)))

    def recommendation(self, objective: str | None = None, constraints: Sequence[str] | None = None
                       ) -> Recommendation:
        """Which policy to adopt, against the first (the current practice): see
        :func:`collectsim.experiments.recommend.recommend`. Default: this comparison's objective and constraints."""
        from collectsim.experiments.recommend import recommend

        return recommend(self, self.objective if objective is None else objective,
                         self.constraints if constraints is None else constraints)

    def to_dict(self) -> dict:
        metrics = {p: {m: {"mean": _num(iv.mean), "lo": _num(iv.lo), "hi": _num(iv.hi)}
                       for m in METRIC_NAMES for iv in [self.interval(p, m)]} for p in self.policies}
        diffs = [{k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
                 for row in self.differences().to_dict(orient="records")]
        for d in diffs:
            d["significant"] = bool(d["significant"])
        out = {"scenario": self.scenario, "seed": self.seed, "reps": self.reps, "partial": self.partial,
               "money_unit": "cents", "policies": list(self.policies), "metrics": metrics, "differences": diffs,
               "net_value_components": {p: {part: metrics[p][f"nv_{part}"]["mean"] for part in NET_VALUE_COMPONENTS}
                                        for p in self.policies},
               "recommendation": self.recommendation().to_dict() if self.reps else None}
        if self.sequential is not None:
            s = self.sequential
            out["sequential"] = {"metric": s.metric, "target_halfwidth": s.target_halfwidth, "met": s.met,
                                 "widest_halfwidth": _num(s.widest_halfwidth), "reps": s.reps,
                                 "max_reps": s.max_reps}
        if self.robustness is not None:
            out["robustness"] = self.robustness.to_list()
            out["robustness_settings"] = self.robustness.settings_dict()
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def headline(self, metrics: Sequence[str] = ("cash_collected", "dso", "bad_debt_ratio", "cost_to_collect",
                                                   "mean_goodwill", "net_value")) -> list[str]:
        """The verdicts on the metrics a finance manager reads first."""
        diffs = self.differences()
        order = {m: i for i, m in enumerate(metrics)}
        chosen = diffs[diffs["metric"].isin(metrics)]
        chosen = chosen.assign(_order=chosen["metric"].map(order)).sort_values(["a", "b", "_order"], kind="stable")
        return chosen["verdict"].tolist()

    def write(self, out_dir: str | Path, figures: Mapping[str, Callable[[Comparison], Figure]] | None = None
              ) -> list[Path]:
        """summary.csv, differences.csv, replications.csv, net_value.csv (:meth:`net_value_table`), robustness.csv
        (when it was run), the figures as PNG and comparison.json, in ``out_dir``.

        ``figures`` maps a file stem to a function drawing the comparison (the command line passes
        :func:`collectsim.present.plots.comparison_figures`); without it no figure is drawn.

        Every file is complete or absent, and the files of an earlier job there are removed first. Every CSV
        is for people: money in currency units (not cents), shares in percent, the unit in a ``unit`` column
        (summary, differences) or in the column's name (replications: ``cash_collected_EUR``,
        ``bad_debt_ratio_pct``); comparison.json keeps cents and fractions, as its ``money_unit`` says. Every CSV
        has a ``partial`` column (true when the job was interrupted), like the JSON's "partial". The JSON is
        written last; a Ctrl-C while writing leaves the tables and the JSON marked partial, then re-raises.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        figures = dict(figures or {})
        remove(out / name for name in (*_TABLES, _ROBUSTNESS, "comparison.json", *(f"{p}.png" for p in figures)))
        try:
            paths = self._write_tables(out)
            if self.reps:
                paths += [save_figure(draw(self), out / f"{name}.png") for name, draw in figures.items()]
            return [*paths, write_text(out / "comparison.json", self.to_json() + "\n")]
        except KeyboardInterrupt:
            with interrupts_held():
                marked = replace(self, partial=True)
                marked._write_tables(out)
                write_text(out / "comparison.json", marked.to_json() + "\n")
            raise

    def _write_tables(self, out: Path) -> list[Path]:
        frames = (long_table_for_people(self.summary(), self.currency),
                  long_table_for_people(self.differences(), self.currency, differences=True),
                  wide_table_for_people(self.replication_table(), self.currency),
                  long_table_for_people(self.net_value_table(), self.currency, ("mean", *_NV_DIFFERENCE)))
        paths = [write_csv(frame.assign(partial=self.partial), out / name) for name, frame in zip(_TABLES, frames)]
        if self.robustness is not None:
            paths.append(write_csv(self.robustness.to_frame().assign(partial=self.partial or self.robustness.partial),
                                   out / _ROBUSTNESS))
        return paths


_TABLES = ("summary.csv", "differences.csv", "replications.csv", "net_value.csv")
_NV_DIFFERENCE = ("first_minus_this", "first_minus_this_lo", "first_minus_this_hi")
_ROBUSTNESS = "robustness.csv"


def _num(x: float) -> float | None:
    """JSON has no NaN: an undefined interval end becomes null."""
    return None if isinstance(x, float) and math.isnan(x) else x


def _labels(specs: Sequence[PolicySpec]) -> list[str]:
    """Policy names, made unique when a policy is listed twice ('as-is', 'as-is (2)')."""
    labels, seen = [], {}
    for spec in specs:
        seen[spec.name] = seen.get(spec.name, 0) + 1
        labels.append(spec.name if seen[spec.name] == 1 else f"{spec.name} ({seen[spec.name]})")
    return labels


def _widest_halfwidth(comp: Comparison, metric: str) -> float:
    pairs = list(combinations(comp.policies, 2))
    widths = ([comp.difference(a, b, metric).halfwidth for a, b in pairs] if pairs
              else [comp.interval(p, metric).halfwidth for p in comp.policies])
    return max(widths) if widths else math.inf


def compare(scenario: Scenario, policies: Sequence[str | PolicySpec] | None = None, reps: int = 10,
            seed: int | None = None, executor: ExecutorSpec = None, workers: int | None = None,
            target_halfwidth: float | None = None, metric: str = "cash_collected", max_reps: int = 200,
            progress: bool = True, engine: str = "auto", robustness: bool = False) -> Comparison:
    """Compare policies on ``scenario`` with common random numbers.

    ``policies`` are names in the scenario or PolicySpec objects (default: all of the scenario's); the
    same one may be listed twice. Replication j of every policy runs with seed ``derive_seed(seed, j)``.
    With ``target_halfwidth``, ``reps`` is the batch size and replications are added until every pairwise
    difference of ``metric`` has a 95% half-width at most the target, or ``max_reps`` is reached.
    ``engine`` "auto" (default) runs the policies' replications in shared batches on the compiled engine
    (see :mod:`collectsim.engines.base`); "simpy" or "compiled" force one. The numbers are the same whichever runs
    them. With ``robustness`` the comparison is run again at low and high values of the uncertain behaviour
    assumptions and every headline verdict against the first policy is labelled robust or not (see
    :mod:`collectsim.experiments.robustness`), with as many replications per setting (at least 5).
    """
    specs = [p if isinstance(p, PolicySpec) else scenario.policy(p)
             for p in (policies if policies is not None else [p.name for p in scenario.policies])]
    if not specs:
        raise ScenarioError(scenario.source, "policies", [], "name at least one policy to compare")
    if reps < 1:
        raise ValueError("reps must be at least 1")
    if metric not in METRIC_NAMES:
        raise ValueError(f"unknown metric {metric!r}; metrics are: {', '.join(METRIC_NAMES)}")
    seed = scenario.seed if seed is None else int(seed)
    labels = _labels(specs)
    done: dict[tuple[str, int], Replication] = {}
    interrupted = False
    sequential = None

    def collect(unit, results: list[Replication]) -> None:
        for result in results:
            done[(result.label, result.rep)] = result

    chunks = max(1, workers or 1) if executor is None else max(2, workers or 2)
    with open_executor(executor, workers) as ex:
        start = 0
        while True:
            stop = start + reps if target_halfwidth is None else min(start + reps, max_reps)
            units = work_units(scenario, list(zip(specs, labels)), range(start, stop),
                               lambda j: derive_seed(seed, j), engine, chunks)
            interrupted = run_all(run_unit, units, ex, collect, progress, runs_in=runs_in,
                                  description=f"{scenario.name}: replications {start + 1}-{stop}")
            comp = _assemble(scenario, seed, labels, done, interrupted, None)
            if target_halfwidth is None or interrupted:
                break
            widest = _widest_halfwidth(comp, metric)
            met = widest <= target_halfwidth
            if met or stop >= max_reps:
                sequential = Sequential(metric, target_halfwidth, met, widest, comp.reps, max_reps)
                break
            start = stop
    comp = _assemble(scenario, seed, labels, done, interrupted, sequential)
    if robustness and not comp.partial:
        comp = _with_robustness(comp, scenario, specs, executor, workers, progress, engine)
    return comp


def _with_robustness(comp: Comparison, scenario: Scenario, specs: list[PolicySpec], executor: ExecutorSpec,
                     workers: int | None, progress: bool, engine: str) -> Comparison:
    """The comparison with its robustness check (its replications serve as the central setting's)."""
    from collectsim.experiments.robustness import robustness

    rob = robustness(scenario, specs, reps=comp.reps, seed=comp.seed, executor=executor, workers=workers,
                     progress=progress, engine=engine, central=comp)
    return replace(comp, robustness=rob, partial=comp.partial or rob.partial)


def _assemble(scenario: Scenario, seed: int, labels: list[str], done: dict, partial: bool,
              sequential: Sequential | None) -> Comparison:
    """Keep the replications every policy finished (pairs need both sides)."""
    reps_by_label = [{rep for (lab, rep) in done if lab == label} for label in labels]
    complete = sorted(set.intersection(*reps_by_label))
    runs = tuple(done[(label, rep)] for label in labels for rep in complete)
    h = scenario.horizon
    return Comparison(scenario.name, scenario.economics.currency, seed, tuple(labels), runs,
                      partial, sequential, (h.measured_start, h.measured_end))
