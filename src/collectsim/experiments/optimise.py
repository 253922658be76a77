"""Optimising a policy: search its levers for the best policy under an objective and constraints, honestly.

A sports coach with one afternoon of track time and forty hopefuls does not time each of them over ten laps.
Everyone runs one lap; the fastest third run three more; the fastest third of those run more again, until one
runner is left beside the club's current champion, who runs every heat. Then the winner and the champion race once
more on a fresh day, because the heats flatter whoever was lucky in them, and that fresh race is the time the coach
reports.

:func:`optimise` does the same with policies. The *levers* are dotted policy keys with the values to try
(``discount.rate=0:0.03:0.01``, ``reminders.steps.0.tone=friendly,firm``; see
:mod:`collectsim.experiments.levers`); the *candidates* are the grid of their
values, or a Latin-hypercube sample of it when the grid is larger than the budget can race, plus the starting policy
itself (the *incumbent*). The race is successive halving (Karnin, Koren and Somekh, ICML 2013) with common random
numbers:

- every round gets an equal share of the search budget; in a round every candidate still in the race runs the same
  new replications (replication j has seed ``derive_seed(seed, j)`` whichever candidate runs it), so candidates are
  ranked on paired evidence, on every replication they have run so far;
- after a round the best third of the challengers stay (``eta`` = 3), ranked on the mean objective, those meeting
  every constraint first (a candidate is *infeasible* when its mean breaks a constraint, as in
  :mod:`collectsim.experiments.recommend`); the incumbent always stays, so the last round is the best challenger
  against the starting policy on the most replications;
- the best of the last round is the best policy (the incumbent when no challenger beats it).

**Honest selection.** The best of many noisy candidates looks better than it is: the search picked it partly because
luck favoured it. Its advantage is therefore estimated again on ``holdout_reps`` *fresh* replications, whose seeds
come from a separate stream and are checked to be none of the search's, in a :class:`~collectsim.experiments.compare.
Comparison` of the starting policy and the best one; that comparison's recommendation is what the result says.

``budget`` counts policy-replications (one policy run once), the search's and the fresh comparison's together; the
search never spends more than its share. Ctrl-C stops the search: the best so far is kept, without a fresh
comparison, and the result is marked partial.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.config.schema import ScenarioError
from collectsim.experiments.compare import Comparison, _num, compare
from collectsim.experiments.executors import ExecutorSpec, open_executor, run_all
from collectsim.experiments.levers import Lever, parse_levers, value_at, value_text
from collectsim.experiments.recommend import (
    OBJECTIVE,
    Constraint,
    _amount,
    check_objective,
    parse_constraints,
)
from collectsim.experiments.replication import run_unit, runs_in, work_units
from collectsim.experiments.stats import mean_interval, paired_interval
from collectsim.files.exports import write_csv
from collectsim.files.safe_output import interrupts_held, remove, save_figure, write_text
from collectsim.files.toml_write import strategy_toml
from collectsim.model.draws import derive_seed
from collectsim.results.metric_info import info

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Each round keeps this share (one in ``ETA``) of the challengers.
ETA = 3
#: The fewest replications a candidate gets in the first round (with fewer, a mean says little).
MIN_REPS = 3
#: Fresh replications for the honest re-estimate of the best policy against the starting one.
HOLDOUT_REPS = 20
#: The index of the seed stream the fresh replications' seeds derive from (the search uses indices 0, 1, ...).
_FRESH_STREAM = 1 << 40


# --- the plan of the race -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How a search budget is spent: ``challengers[k]`` challengers (besides the incumbent) in round k, each
    candidate given ``new_reps[k]`` more replications there."""

    challengers: tuple[int, ...]
    new_reps: tuple[int, ...]

    @property
    def rounds(self) -> int:
        return len(self.challengers)

    @property
    def runs(self) -> int:
        return sum((m + 1) * a for m, a in zip(self.challengers, self.new_reps))

    def reps_after(self, k: int) -> int:
        return sum(self.new_reps[:k + 1])


def plan(available: int, search_budget: int, eta: int = ETA, min_reps: int = MIN_REPS) -> Plan:
    """The plan racing the most challengers (at most ``available``) whose first round gives each candidate at least
    ``min_reps`` replications, every round getting an equal share of ``search_budget``."""
    def for_count(m: int) -> Plan:
        sizes = [m]
        while sizes[-1] > 1:
            sizes.append(math.ceil(sizes[-1] / eta))
        share = search_budget // len(sizes)
        return Plan(tuple(sizes), tuple(share // (s + 1) for s in sizes))

    best = None
    low, high = 1, max(1, available)
    while low <= high:  # the first round's replications fall as challengers are added: bisect
        mid = (low + high) // 2
        p = for_count(mid)
        if p.new_reps[0] >= min_reps:
            best, low = p, mid + 1
        else:
            high = mid - 1
    if best is None:
        raise ValueError("budget too small")
    return best


def _sample(levers: Sequence[Lever], count: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """``count`` distinct grid points (as value indices), a Latin hypercube first (each lever's values covered
    evenly), topped up with random grid points."""
    sizes = [len(lev.values) for lev in levers]
    chosen: dict[tuple[int, ...], None] = {}
    columns = [np.floor((rng.permutation(count) + rng.random(count)) / count * n).astype(int) for n in sizes]
    for point in zip(*columns):
        chosen[tuple(int(i) for i in point)] = None
    total = math.prod(sizes)
    while len(chosen) < count:
        flat = int(rng.integers(total))
        point = tuple(int(i) for i in np.unravel_index(flat, sizes))
        chosen[point] = None
    return list(chosen)[:count]


# --- the result ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimiseResult:
    """The best policy found, the search's history and the fresh comparison of the best against the start."""

    scenario: str
    currency: str
    start: PolicySpec
    best_policy: PolicySpec
    best_values: dict[str, Any]
    start_values: dict[str, Any]
    levers: tuple[Lever, ...]
    objective: str
    constraints: tuple[str, ...]
    history: pd.DataFrame
    comparison: Comparison | None
    seed: int
    budget: int
    search_runs: int
    search_seeds: tuple[int, ...]
    grid_size: int
    candidates: int
    invalid: int
    rounds: int
    feasible: bool
    search_gain: float | None = None
    search_reps: int = 0
    best_candidate: int = 0  # its id in the history (0: the starting policy)
    sampled: bool = False  # the challengers are a sample of the grid (not all of it)
    partial: bool = False
    measured_days: int = 0
    _said: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def improved(self) -> bool:
        """Whether a challenger beat the starting policy in the search (otherwise the best is the start)."""
        return self.best_values != self.start_values

    @property
    def fresh_seeds(self) -> tuple[int, ...]:
        """The seeds of the fresh replications (none of them a search seed)."""
        if self.comparison is None:
            return ()
        return tuple(dict.fromkeys(r.seed for r in self.comparison.replications))

    @property
    def text(self) -> str:
        """One paragraph for a finance manager: what was searched, the best lever values, and the gain over the
        starting policy as re-estimated on fresh replications."""
        if "text" not in self._said:
            self._said["text"] = _Words(self).paragraph()
        return self._said["text"]

    def leaders(self, rung: int = 1, top: int | None = 10) -> pd.DataFrame:
        """The candidates of one round of the race (default the first, where every candidate ran), best first, for
        people: the lever values, the replications, the objective's mean and 95% interval and its mean difference
        from the start's on the same replications, in the unit people read (money in currency units, shares in
        percent), feasibility and whether the round eliminated it."""
        what = info(self.objective)
        unit = what.display_unit(self.currency)
        rows = self.history[self.history["rung"] == rung].head(top)
        out = rows.drop(columns=["rung", "vs_start_lo", "vs_start_hi"]).rename(
            columns=lambda c: c.removeprefix("lever:"))
        digits = 0 if what.kind in ("money", "value") else what.digits + 1
        for column in ("mean", "lo", "hi", "vs_start"):
            out[column] = out[column].map(lambda x: round(what.in_display_units(x), digits))
        names = {c: f"{what.words} {c}" + (f" ({unit})" if unit else "") for c in ("mean", "lo", "hi")}
        names["vs_start"] = "minus the start's" + (f" ({unit})" if unit else "")
        return out.rename(columns=names).reset_index(drop=True)

    def to_dict(self) -> dict:
        rows = [{k: (_num(v) if isinstance(v, float) else _plain_value(v)) for k, v in row.items()}
                for row in self.history.to_dict(orient="records")]
        rec = self.comparison.recommendation().to_dict() if self.comparison is not None and \
            self.comparison.reps else None
        return {"scenario": self.scenario, "from": self.start.name, "best_policy": self.best_policy.name,
                "objective": self.objective, "constraints": list(self.constraints),
                "levers": {lev.key: list(lev.values) for lev in self.levers},
                "best_values": self.best_values, "start_values": self.start_values, "improved": self.improved,
                "feasible": self.feasible, "seed": self.seed, "budget": self.budget, "search_runs": self.search_runs,
                "fresh_runs": 2 * self.comparison.reps if self.comparison is not None else 0,
                "grid_size": self.grid_size, "sampled": self.sampled, "candidates": self.candidates,
                "invalid_candidates": self.invalid,
                "rounds": self.rounds, "search_gain": _num(self.search_gain), "search_reps": self.search_reps,
                "best_candidate": self.best_candidate,
                "fresh_reps": self.comparison.reps if self.comparison is not None else 0,
                "fresh_seeds_disjoint": not set(self.fresh_seeds) & set(self.search_seeds),
                "recommendation": rec, "partial": self.partial, "money_unit": "cents", "text": self.text,
                "history": rows}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def strategy_toml(self) -> str:
        """The best policy as a strategy file, its comments saying how it was found."""
        said = [f"{k} = {value_text(v)} (was {value_text(self.start_values[k])})" for k, v in self.best_values.items()]
        lines = [f"{self.best_policy.name}: written by `collectsim optimise` from policy {self.start.name!r} of "
                 f"scenario {self.scenario!r}.",
                 f"Objective {self.objective}" + (f", constraints {', '.join(self.constraints)}"
                                                  if self.constraints else ", no constraints")
                 + f"; seed {self.seed}, budget {self.budget} policy-replications.",
                 "Lever values found: " + ("; ".join(said) if said else "none") + ".",
                 "" if not self.partial else "PARTIAL: the search was interrupted; this is the best so far.",
                 "Everything else is the starting policy's. The evidence: history.csv and the comparison beside "
                 "this file."]
        return strategy_toml(self.best_policy, [line for line in lines if line])

    def write(self, out_dir: str | Path, figure: Callable[[OptimiseResult], Figure] | None = None,
              comparison_figures: Mapping[str, Callable[[Comparison], Figure]] | None = None) -> list[Path]:
        """best-policy.toml, history.csv, the plot as history.png (with ``figure``, e.g.
        :func:`collectsim.present.plots.optimise_figure`), the fresh comparison's files (its
        :meth:`~collectsim.experiments.compare.Comparison.write`, with ``comparison_figures``) and optimise.json,
        in ``out_dir``.

        Every file is complete or absent, and an earlier job's are removed first; optimise.json is written last. A
        Ctrl-C while writing leaves the history and the JSON marked partial, then re-raises.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        remove([out / "best-policy.toml", out / "history.csv", out / "history.png", out / "optimise.json"])
        try:
            paths = [write_text(out / "best-policy.toml", self.strategy_toml()), self._write_history(out)]
            if figure is not None and not self.history.empty:
                paths.append(save_figure(figure(self), out / "history.png"))
            if self.comparison is not None:
                paths += self.comparison.write(out, comparison_figures)
            return [*paths, write_text(out / "optimise.json", self.to_json() + "\n")]
        except KeyboardInterrupt:
            with interrupts_held():
                marked = replace(self, partial=True)
                marked._write_history(out)
                write_text(out / "optimise.json", marked.to_json() + "\n")
            raise

    def _write_history(self, out: Path) -> Path:
        what = info(self.objective)
        unit = what.display_unit(self.currency)
        table = self.history.copy()
        for column in ("mean", "lo", "hi", *_VS_START):
            table[column] = table[column].map(what.in_display_units)
        table = table.rename(columns={c: f"{c}_{unit}" if unit else c for c in ("mean", "lo", "hi", *_VS_START)})
        for col in [c for c in table.columns if c.startswith("mean:")]:  # the constraints' metrics
            metric = info(col.removeprefix("mean:"))
            suffix = {"%": "pct", "": ""}.get(metric.display_unit(self.currency), metric.display_unit(self.currency))
            table[col] = table[col].map(metric.in_display_units)
            table = table.rename(columns={col: f"mean_{metric.name}" + (f"_{suffix}" if suffix else "")})
        for col in [c for c in table.columns if c.startswith("lever:")]:
            table[col] = table[col].map(lambda v: v if isinstance(v, (int, float)) and v is not None else value_text(v))
        return write_csv(table.assign(objective=self.objective, partial=self.partial), out / "history.csv")


def _plain_value(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# --- the search ---------------------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    id: int
    values: dict[str, Any]
    spec: PolicySpec
    runs: dict[int, dict[str, float]] = field(default_factory=dict)  # rep -> metrics

    def series(self, metric: str, reps: Sequence[int]) -> list[float]:
        return [self.runs[j][metric] for j in reps]


def optimise(scenario: Scenario, from_policy: str | PolicySpec | None = None,
             levers: Iterable[str | Lever] | Mapping[str, Sequence[Any]] = (), objective: str = OBJECTIVE,
             constraints: Sequence[str | Constraint] = (), budget: int = 2000, seed: int | None = None,
             progress: bool = True, executor: ExecutorSpec = None, workers: int | None = None,
             engine: str = "auto", holdout_reps: int = HOLDOUT_REPS, eta: int = ETA,
             min_reps: int = MIN_REPS) -> OptimiseResult:
    """Search ``levers`` of ``from_policy`` (default: the scenario's first) for the best policy under ``objective``
    and ``constraints``, in ``budget`` policy-replications; see the module's docstring for the method.

    ``levers`` are strings ``KEY=LO:HI[:STEP]`` or ``KEY=A,B,C`` (see :func:`collectsim.experiments.levers.parse_lever`)
    or a mapping of dotted keys to lists of values. ``executor``, ``workers`` and ``engine`` as in
    :func:`collectsim.experiments.compare.compare`. Raises :class:`ScenarioError` for a bad lever (an unknown key, a
    value the key does not allow) and :class:`~collectsim.experiments.recommend.RecommendError` for a bad objective
    or constraint, before running anything.
    """
    start = from_policy if isinstance(from_policy, PolicySpec) else scenario.policy(from_policy)
    levs = parse_levers(levers)
    check_objective(objective)
    cons = parse_constraints(constraints)
    if holdout_reps < 2:
        raise ValueError("holdout_reps must be at least 2 (an interval needs two replications)")
    if eta < 2 or min_reps < 1:
        raise ValueError("eta must be at least 2 and min_reps at least 1")
    seed = scenario.seed if seed is None else int(seed)
    search_budget = int(budget) - 2 * holdout_reps
    least = 2 * min_reps + 2 * holdout_reps
    if search_budget < 2 * min_reps:
        raise ScenarioError("budget", "", budget, f"too small: at least {least} policy-replications (the search's "
                            f"{2 * min_reps} and the fresh comparison's {2 * holdout_reps})")
    start_values = {lev.key: value_at(start, lev.key) for lev in levs}
    grid_size = math.prod(len(lev.values) for lev in levs)
    the_plan = plan(grid_size, search_budget, eta, min_reps)
    rng = np.random.default_rng(derive_seed(seed, _FRESH_STREAM + 1))
    sampled = grid_size > the_plan.challengers[0]
    if not sampled:
        points = list(itertools.product(*(range(len(lev.values)) for lev in levs)))
    else:
        points = _sample(levs, the_plan.challengers[0], rng)
    candidates, invalid = _candidates(start, levs, points, start_values)
    if len(candidates) - 1 < the_plan.challengers[0]:  # fewer valid challengers than planned: more reps each
        the_plan = plan(max(1, len(candidates) - 1), search_budget, eta, min_reps)
    candidates = candidates[:the_plan.challengers[0] + 1]

    measure = tuple(dict.fromkeys([objective, *(c.metric for c in cons)]))
    higher = info(objective).better == "higher"
    chunks = max(1, workers or 1) if executor is None else max(2, workers or 2)
    rows: list[dict] = []
    alive = list(candidates)
    reps_done = 0
    interrupted = False
    rounds = 0
    by_id = {c.id: c for c in candidates}

    def collect(unit, results) -> None:
        for r in results:
            by_id[int(r.label)].runs[r.rep] = {m: r.metrics[m] for m in measure}

    def ranked(group: list[_Candidate], reps: Sequence[int]) -> list[_Candidate]:
        def key(c: _Candidate):
            means = {m: float(np.mean(c.series(m, reps))) for m in measure}
            broken = sum(not con.holds(means[con.metric]) for con in cons)
            return (broken, -means[objective] if higher else means[objective], c.id)
        return sorted(group, key=key)

    with open_executor(executor, workers) as ex:
        for k in range(the_plan.rounds):
            new = range(reps_done, reps_done + the_plan.new_reps[k])
            units = work_units(scenario, [(c.spec, str(c.id)) for c in alive], new,
                               lambda j: derive_seed(seed, j), engine, chunks)
            interrupted = run_all(run_unit, units, ex, collect, progress, runs_in=runs_in,
                                  description=f"optimise {start.name}: round {k + 1}/{the_plan.rounds}, "
                                              f"{len(alive)} candidates x {len(new)} replications")
            common = [j for j in range(new.stop) if all(j in c.runs for c in alive)]
            if interrupted:
                if len(common) > reps_done:  # some of this round's replications finished for every candidate
                    rounds = k + 1
                    rows += _rows(ranked(alive, common), k, common, measure, objective, cons, set(), levs)
                else:
                    common = list(range(reps_done))
                break
            reps_done = new.stop
            rounds = k + 1
            order = ranked(alive, common)
            keep = the_plan.challengers[k + 1] if k + 1 < the_plan.rounds else 1
            challengers = [c for c in order if c.id != 0][:keep]
            incumbent = by_id[0]
            survivors = [c for c in order if c in challengers or c is incumbent]
            last = k + 1 == the_plan.rounds
            out = set() if last else {c.id for c in order if c not in survivors}
            rows += _rows(order, k, common, measure, objective, cons, out, levs)
            alive = survivors
        search_runs = sum(len(c.runs) for c in candidates)
        search_seeds = tuple(derive_seed(seed, j) for j in sorted({j for c in candidates for j in c.runs}))
        if not interrupted:
            common = list(range(reps_done))
        best = ranked(alive, common)[0] if common else by_id[0]
        feasible = bool(common) and all(con.holds(float(np.mean(best.series(con.metric, common)))) for con in cons)
        search_gain = (paired_interval(best.series(objective, common), by_id[0].series(objective, common)).mean
                       if common and best.id != 0 else (0.0 if common else None))
        best_spec = _named(start, best.values if best.id != 0 else start_values, levs, objective)
        comparison = None
        if not interrupted and best.id != 0:
            comparison = compare(scenario, [start, best_spec], reps=holdout_reps, seed=fresh_seed(seed),
                                 executor=ex, workers=workers if ex is not None else None, progress=progress,
                                 engine=engine)
            comparison = comparison.with_recommendation(objective, [c.text for c in cons])
            if set(r.seed for r in comparison.replications) & set(search_seeds):  # a 1 in 2**60 chance per pair
                raise RuntimeError("a fresh replication's seed was used in the search")
    history = pd.DataFrame(rows, columns=_history_columns(levs, measure))
    h = scenario.horizon
    return OptimiseResult(
        scenario.name, scenario.economics.currency, start, best_spec,
        dict(best.values) if best.id != 0 else dict(start_values), start_values, levs, objective,
        tuple(c.text for c in cons), history, comparison, seed, int(budget), search_runs, search_seeds, grid_size,
        len(candidates), invalid, rounds, feasible, search_gain, len(common), best.id, sampled,
        partial=interrupted or (comparison is not None and comparison.partial),
        measured_days=h.measured_end - h.measured_start)


def _candidates(start: PolicySpec, levs: Sequence[Lever], points: Sequence[tuple[int, ...]],
                start_values: dict[str, Any]) -> tuple[list[_Candidate], int]:
    """The incumbent (id 0) and a candidate for every valid grid point not equal to the start; how many were not
    valid. A lever value valid in no grid point tried raises the error of its first, which names the key."""
    out = [_Candidate(0, dict(start_values), start)]
    invalid = 0
    errors: dict[tuple[str, int], ScenarioError] = {}
    valid_somewhere: set[tuple[str, int]] = set()
    for point in points:
        values = {lev.key: lev.values[i] for lev, i in zip(levs, point)}
        tags = [(lev.key, i) for lev, i in zip(levs, point)]
        try:
            spec = start.with_values(values)
        except ScenarioError as exc:
            invalid += 1
            for tag in tags:
                errors.setdefault(tag, exc)
            continue
        valid_somewhere.update(tags)
        if values != start_values:
            out.append(_Candidate(len(out), values, spec))
    for tag, exc in errors.items():
        if tag not in valid_somewhere:
            raise ScenarioError("lever", exc.key or tag[0], exc.value, exc.allowed) from None
    return out, invalid


def _named(start: PolicySpec, values: dict[str, Any], levs: Sequence[Lever], objective: str) -> PolicySpec:
    if values == {lev.key: value_at(start, lev.key) for lev in levs}:
        return replace(start, name=f"{start.name}-optimised",
                       description=f"{start.name} unchanged: no setting of its levers that collectsim optimise tried "
                                   f"beat it on {objective}")
    said = ", ".join(f"{k} = {value_text(v)}" for k, v in values.items())
    return replace(start.with_values(values), name=f"{start.name}-optimised",
                   description=f"{start.name} with {said}: the best found by collectsim optimise for {objective}")


def fresh_seed(seed: int) -> int:
    """The base seed of the fresh comparison: from a stream of ``seed`` the search does not use (the search's
    replication j has seed ``derive_seed(seed, j)``, j small; the fresh one's ``derive_seed(fresh_seed(seed), j)``)."""
    return derive_seed(seed, _FRESH_STREAM)


#: The history's columns of a candidate's paired difference from the start, on the same replications.
_VS_START = ("vs_start", "vs_start_lo", "vs_start_hi")


def _history_columns(levs: Sequence[Lever], measure: Sequence[str]) -> list[str]:
    return ["candidate", "start", *(f"lever:{lev.key}" for lev in levs), "rung", "reps", "mean", "lo", "hi",
            *_VS_START, "feasible", "eliminated", *(f"mean:{m}" for m in measure[1:])]


def _rows(order: list[_Candidate], k: int, reps: Sequence[int], measure: Sequence[str], objective: str,
          cons: Sequence[Constraint], out: set[int], levs: Sequence[Lever]) -> list[dict]:
    rows = []
    start = next(c for c in order if c.id == 0)
    for c in order:
        iv = mean_interval(c.series(objective, reps))
        gain = paired_interval(c.series(objective, reps), start.series(objective, reps))
        means = {m: float(np.mean(c.series(m, reps))) for m in measure}
        rows.append({"candidate": c.id, "start": c.id == 0, **{f"lever:{lev.key}": c.values.get(lev.key)
                                                               for lev in levs},
                     "rung": k + 1, "reps": len(reps), "mean": iv.mean, "lo": iv.lo, "hi": iv.hi,
                     "vs_start": gain.mean, "vs_start_lo": gain.lo, "vs_start_hi": gain.hi,
                     "feasible": all(con.holds(means[con.metric]) for con in cons), "eliminated": c.id in out,
                     **{f"mean:{m}": means[m] for m in measure[1:]}})
    return rows


# --- words --------------------------------------------------------------------------------------------------------


class _Words:
    """The paragraph of :attr:`OptimiseResult.text`."""

    def __init__(self, res: OptimiseResult) -> None:
        self.res = res

    def paragraph(self) -> str:
        res = self.res
        parts = [self.searched()]
        if res.search_reps == 0:
            parts.append("It was interrupted before any replication finished: there is no result.")
            return " ".join(parts)
        parts.append(self.found())
        if res.comparison is not None and res.comparison.reps:
            comp = res.comparison
            parts.append(f"The gain was re-estimated on {comp.reps} fresh replication{'s' if comp.reps != 1 else ''} "
                         f"with seeds not used in the search (a search's own estimate flatters its winner, which it "
                         f"picked partly for luck).")
            parts.append(comp.recommendation().text)
        elif res.comparison is not None:
            parts.append("The fresh re-estimate was interrupted before its first replication finished, so the gain "
                         "was not re-estimated on fresh replications; the search's estimate flatters the winner.")
        elif res.partial:
            parts.append(f"The search was interrupted, so this is the best so far, on {res.search_reps} search "
                         f"replications only; it was not re-estimated on fresh replications, and its advantage may be "
                         f"smaller than it looks.")
        return " ".join(p for p in parts if p)

    def searched(self) -> str:
        res = self.res
        keys = ", ".join(lev.key for lev in res.levers)
        if not res.sampled:
            how = f"every point of the grid of {res.grid_size}" if res.grid_size > 1 else "the one setting given"
        else:
            how = f"a Latin-hypercube sample of {res.candidates - 1} of the {res.grid_size:,} grid points"
        bad = f" ({res.invalid} grid point{'s' if res.invalid != 1 else ''} not a valid policy)" if res.invalid else ""
        best = "highest" if info(res.objective).better == "higher" else "lowest"
        rounds = f"{res.rounds} round{'s' if res.rounds != 1 else ''}"
        return (f"Searched {keys} of {res.start.name!r} ({how}{bad}) for the {best} mean "
                f"{info(res.objective).words}, by successive halving with common random numbers: {rounds}, "
                f"{res.search_runs:,} policy-replications.")

    def found(self) -> str:
        res = self.res
        cur = res.currency
        if not res.feasible:
            lead = ("No candidate met every constraint (" + ", ".join(res.constraints) + "); the one closest to "
                    "meeting them")
        else:
            lead = "The best"
        if not res.improved:
            return (f"{lead} is the starting policy itself: no lever setting tried beat it on "
                    f"{info(res.objective).words}" + (" while meeting the constraints" if res.constraints else "")
                    + f" ({res.search_reps} replications).")
        changed = {k: v for k, v in res.best_values.items() if v != res.start_values[k]}
        said = "; ".join(f"{k} = {value_text(v)} (was {value_text(res.start_values[k])})" for k, v in changed.items())
        same = [k for k in res.best_values if k not in changed]
        kept = f", and keeps {', '.join(f'{k} = {value_text(res.start_values[k])}' for k in same)}" if same else ""
        gain = res.search_gain or 0.0
        return (f"{lead} sets {said}{kept}. In the search it {'raised' if gain >= 0 else 'lowered'} "
                f"{info(res.objective).words} by {_amount(res.objective, abs(gain), cur)} against the start over "
                f"{res.search_reps} replications.")


__all__ = ["ETA", "HOLDOUT_REPS", "MIN_REPS", "OptimiseResult", "Plan", "fresh_seed", "optimise", "plan"]
