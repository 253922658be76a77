"""Robustness of verdicts: does "B beats A" survive plausible values of the behaviour assumptions?

A comparison's verdicts rest on effect sizes nobody has measured for this portfolio: how strongly goodwill drives
orders and churn, how well reminders work, how fast goodwill heals, how often an agency collects. Here the
comparison is run again with each of them at a low and at a high value, one at a time, every other key at the
scenario's own (central) value, with the same replication seeds at every setting (common random numbers), so the
settings differ by the assumption, not by luck.

For every headline metric and every policy b against the first policy a (the current practice), the verdict on
b - a -- better, worse or not significant, as :func:`collectsim.experiments.verdicts.verdict_kind` reads the
paired 95% interval -- is taken at every setting. The difference is *robust* when that verdict is the same at all
of them; otherwise it *depends on* the assumptions whose low or high value changes it. A verdict that turns into
its opposite there is the warning; one that only becomes "not significant" may also be a close call that more
replications (at least :data:`MIN_REPS` per setting; by default the comparison's own) would settle.

The assumptions varied are :data:`DIMENSIONS`, one line each: a name for people, the dotted scenario key(s),
how low and high are derived from the central value, and why. Derivations:

- ``factor``: low and high are the central value times ``low`` and ``high`` (halve / double for an effect
  size that is an assumption); several keys are scaled together;
- ``odds``: for a probability p, the odds p / (1 - p) are multiplied by ``low`` and ``high`` (halve / double
  the odds keeps the value inside 0-1 and moves it most where it is most uncertain, near 0.5);
- ``values``: ``low`` and ``high`` are the values themselves.

Every value is then clipped to the key's allowed range (the schema's); a value that cannot move (a factor of a
central 0, a probability already at 1) stays central, and that setting is the central run again. A setting equal
to the central one is not run twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.config.schema import NO_VALUE, ScenarioError, Spec, spec_of
from collectsim.experiments.compare import Comparison, _assemble, _labels
from collectsim.experiments.executors import ExecutorSpec, open_executor, run_all
from collectsim.experiments.replication import Replication, run_unit, runs_in, work_units
from collectsim.experiments.verdicts import verdict_kind
from collectsim.model.draws import derive_seed
from collectsim.results.metric_info import HEADLINE

#: Fewest replications per setting: fewer give intervals too wide to say anything changed.
MIN_REPS = 5

SCALES = ("factor", "odds", "values")


@dataclass(frozen=True)
class Dimension:
    """One uncertain assumption: its name for people, its scenario key(s), and how its low and high are derived."""

    name: str
    keys: tuple[str, ...]
    low: float
    high: float
    scale: str = "factor"  # one of SCALES; see the module's docstring
    why: str = ""

    def levels(self, scenario: Scenario) -> dict[str, dict[str, float]]:
        """{"low": {key: value}, "central": {...}, "high": {...}} for ``scenario`` (central: its own values)."""
        out: dict[str, dict[str, float]] = {"low": {}, "central": {}, "high": {}}
        for key in self.keys:
            central, spec = scenario_value(scenario, key)
            out["central"][key] = central
            for level, x in (("low", self.low), ("high", self.high)):
                out[level][key] = _derive(central, x, self.scale, spec)
        return out


#: The assumptions a robustness check varies, one at a time; adding one is one line.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("order elasticity", ("behaviour.order_goodwill_elasticity",), 0.5, 2.0, "factor",
              "assumption, no source: halve / double how much lost goodwill cuts ordering"),
    Dimension("churn response", ("behaviour.churn_goodwill_slope",), 0.5, 2.0, "factor",
              "billing-vendor data (B2C, confounded) bound it from above only: halve / double the slope"),
    Dimension("reminder response", ("behaviour.response.email", "behaviour.response.letter",
                                    "behaviour.response.phone"), 0.5, 2.0, "factor",
              "field experiments give the direction, not the size: every channel's response chance halved / "
              "doubled together (clipped to 1; the cap on one reminder's chance still applies)"),
    Dimension("goodwill recovery", ("behaviour.goodwill_recovery_days",), 0.5, 2.0, "factor",
              "assumption, no source: goodwill heals twice as fast / half as fast (time constant halved / doubled)"),
    Dimension("goodwill cap", ("behaviour.contact_goodwill_cap",), 0.5, 2.0, "factor",
              "assumption, no source: the most goodwill a month of reminders can cost a customer, halved / doubled"),
    Dimension("agency success", ("behaviour.agency_success",), 0.5, 2.0, "odds",
              "agencies' recovery rates vary widely by debt age and sector: odds of collecting halved / doubled "
              "(0.5 becomes 1/3 and 2/3)"),
)


def scenario_value(scenario: Scenario, dotted: str) -> tuple[float, Spec]:
    """The scenario's value of a dotted numeric key (``"behaviour.response.email"``) and its declared setting."""
    obj: Any = scenario
    spec = None
    for part in dotted.split("."):
        found = ([f for f in dataclasses.fields(obj) if f.name == part and f.init]
                 if dataclasses.is_dataclass(obj) else [])
        if not found:
            raise ScenarioError(scenario.source, dotted, NO_VALUE, "not a scenario key a robustness check can vary")
        spec, obj = spec_of(found[0]), getattr(obj, part)
    if isinstance(obj, bool) or not isinstance(obj, (int, float)) or spec is None:
        raise ScenarioError(scenario.source, dotted, obj, "a robustness check varies numeric keys only")
    return obj, spec


def _derive(central: float, x: float, scale: str, spec: Spec) -> float:
    if scale == "factor":
        value = central * x
    elif scale == "odds":
        value = central if central in (0, 1) else (lambda o: o / (1.0 + o))(central / (1.0 - central) * x)
    elif scale == "values":
        value = x
    else:
        raise ValueError(f"scale {scale!r} is not one of {', '.join(SCALES)}")
    if spec.low is not None:
        value = max(value, spec.low)
        if spec.low_exclusive and value <= spec.low:
            value = central
    if spec.high is not None:
        value = min(value, spec.high)
    return round(value) if isinstance(central, int) else float(value)


@dataclass(frozen=True)
class Setting:
    """The scenario with one dimension at its low or high value (or every one at its central value)."""

    dimension: str  # "" for the central setting
    level: str  # "low", "central" or "high"
    values: tuple[tuple[str, float], ...]  # (dotted key, value) of the dimension's keys

    @property
    def name(self) -> str:
        return "central" if self.level == "central" else f"{self.dimension} {self.level}"


@dataclass(frozen=True)
class Label:
    """Whether the verdict on ``b`` against ``a`` in ``metric`` is the same at every setting."""

    a: str
    b: str
    metric: str
    verdicts: tuple[tuple[str, str], ...]  # (setting name, verdict_kind of b - a), central first
    depends_on: tuple[str, ...]  # dimensions whose low or high value changes the verdict

    @property
    def robust(self) -> bool:
        return not self.depends_on

    @property
    def central(self) -> str:
        return dict(self.verdicts).get("central", "")

    def changes(self) -> list[tuple[str, str]]:
        """(setting name, verdict) of the settings whose verdict differs from the central one."""
        return [(name, v) for name, v in self.verdicts if v != self.central]


@dataclass(frozen=True)
class Robustness:
    """The verdicts of a comparison at every setting of :data:`DIMENSIONS`, and which of them are robust."""

    scenario: str
    seed: int
    reps: int
    settings: tuple[Setting, ...]  # central first, then low and high of each dimension
    labels: tuple[Label, ...]
    partial: bool = False

    def to_frame(self) -> pd.DataFrame:
        """One row per (a, b, metric): robust, depends_on ("; "-separated), then the verdict at every setting."""
        rows = [{"a": lab.a, "b": lab.b, "metric": lab.metric, "robust": lab.robust,
                 "depends_on": "; ".join(lab.depends_on), **dict(lab.verdicts)} for lab in self.labels]
        columns = ["a", "b", "metric", "robust", "depends_on", *(s.name for s in self.settings)]
        return pd.DataFrame(rows, columns=columns)

    def settings_frame(self) -> pd.DataFrame:
        """One row per dimension and key: its low, central and high value."""
        central = {k: v for s in self.settings if s.level == "central" for k, v in s.values}
        rows: dict[tuple[str, str], dict] = {}
        for s in self.settings:
            for key, value in s.values:
                if s.level != "central":
                    row = rows.setdefault((s.dimension, key), {"dimension": s.dimension, "key": key,
                                                               "central": central.get(key)})
                    row[s.level] = value
        return pd.DataFrame(list(rows.values()), columns=["dimension", "key", "low", "central", "high"])

    def to_list(self) -> list[dict]:
        """The JSON items: {"a", "b", "metric", "robust", "depends_on", "verdicts"}."""
        return [{"a": lab.a, "b": lab.b, "metric": lab.metric, "robust": lab.robust,
                 "depends_on": list(lab.depends_on), "verdicts": dict(lab.verdicts)} for lab in self.labels]

    def settings_dict(self) -> dict:
        """What was varied, for the JSON: replications per setting and every setting's values."""
        return {"reps": self.reps, "partial": self.partial,
                "settings": [{"name": s.name, "dimension": s.dimension, "level": s.level, "values": dict(s.values)}
                             for s in self.settings]}


def settings(scenario: Scenario, dimensions: Sequence[Dimension] = DIMENSIONS) -> list[Setting]:
    """The central setting, then the low and high setting of every dimension (values derived from ``scenario``)."""
    names = [d.name for d in dimensions]
    if len(set(names)) != len(names):
        raise ValueError("every dimension needs its own name")
    central_values: dict[str, float] = {}
    varied = []
    for d in dimensions:
        levels = d.levels(scenario)
        central_values.update(levels["central"])
        varied += [Setting(d.name, level, tuple(levels[level].items())) for level in ("low", "high")]
    return [Setting("", "central", tuple(central_values.items())), *varied]


def at_setting(scenario: Scenario, setting: Setting) -> Scenario:
    """The scenario with the setting's values; runs from an open ledger still start from it (the settings
    change behaviour, not the customers or the calendar the book fits)."""
    if setting.level == "central":
        return scenario
    changed = scenario.with_values(dict(setting.values), setting.name)
    return changed.with_opening(scenario.opening) if scenario.opening is not None else changed


def robustness(scenario: Scenario, policies: Sequence[str | PolicySpec] | None = None, reps: int = 10,
               seed: int | None = None, executor: ExecutorSpec = None, workers: int | None = None,
               progress: bool = True, engine: str = "auto", dimensions: Sequence[Dimension] = DIMENSIONS,
               metrics: Sequence[str] = HEADLINE, central: Comparison | None = None) -> Robustness:
    """Compare ``policies`` (names or specs; default all of the scenario's, the first being the current
    practice) at every setting of ``dimensions`` with ``reps`` replications each (at least :data:`MIN_REPS`),
    replication j with seed ``derive_seed(seed, j)`` at every setting, and label every difference of
    ``metrics`` against the first policy.

    ``central``, a comparison of the same policies and seed, supplies the central setting's replications it has
    (``compare(..., robustness=True)`` passes its own). All runs go through one executor and one progress bar.
    """
    specs = [p if isinstance(p, PolicySpec) else scenario.policy(p)
             for p in (policies if policies is not None else [p.name for p in scenario.policies])]
    if not specs:
        raise ScenarioError(scenario.source, "policies", [], "name at least one policy to compare")
    reps = max(MIN_REPS, int(reps))
    seed = scenario.seed if seed is None else int(seed)
    labels = _labels(specs)
    every = settings(scenario, dimensions)
    central_values = every[0].values
    # A setting whose values are the central ones is the central run again: run each distinct one once.
    runs_of = {s.name: ("central" if set(s.values) <= set(central_values) else s.name) for s in every}
    distinct = [s for s in every if runs_of[s.name] == s.name]
    scenarios = {s.name: at_setting(scenario, s) for s in distinct}
    done: dict[str, dict[tuple[str, int], Replication]] = {s.name: {} for s in distinct}
    if central is not None and central.seed == seed and list(central.policies) == labels:
        done["central"].update({(r.label, r.rep): r for r in central.replications if r.rep < reps})
    missing = {s.name: [j for j in range(reps) if any((lab, j) not in done[s.name] for lab in labels)]
               for s in distinct}
    to_run = [s for s in distinct if missing[s.name]]

    def collect(unit, results: list[Replication]) -> None:
        for result in results:
            k, _, label = result.label.partition(":")
            name = distinct[int(k)].name
            done[name][(label, result.rep)] = replace(result, label=label)

    parallel = max(1, workers or 1) if executor is None else max(2, workers or 2)
    chunks = 1 if len(to_run) >= parallel else parallel
    units = []
    for s in to_run:
        k = distinct.index(s)
        units += work_units(scenarios[s.name], [(spec, f"{k}:{lab}") for spec, lab in zip(specs, labels)],
                            range(min(missing[s.name]), reps), lambda j: derive_seed(seed, j), engine, chunks)
    interrupted = False
    if units:
        with open_executor(executor, workers) as ex:
            interrupted = run_all(run_unit, units, ex, collect, progress, runs_in=runs_in,
                                  description=f"{scenario.name}: robustness, {len(to_run)} settings x "
                                              f"{len(labels)} policies x {reps}")
    comps = {name: _assemble(scenarios[name], seed, labels, found, interrupted, None) for name, found in done.items()}
    out = []
    a = labels[0]
    for b in labels[1:]:
        for m in metrics:
            verdicts = tuple((s.name, verdict_kind(comps[runs_of[s.name]].difference(b, a, m), m))
                             for s in every if comps[runs_of[s.name]].reps >= 2)
            found = dict(verdicts)
            central_kind = found.get("central")
            depends = tuple(dict.fromkeys(s.dimension for s in every[1:]
                                          if s.name in found and found[s.name] != central_kind))
            out.append(Label(a, b, m, verdicts, depends))
    partial = interrupted or any(c.reps < reps for c in comps.values())
    return Robustness(scenario.name, seed, reps, tuple(every), tuple(out), partial)

