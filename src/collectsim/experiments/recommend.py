"""Which policy to adopt, why, and how sure we are: a comparison's recommendation in one record and one paragraph.

:func:`recommend` reads a :class:`~collectsim.experiments.compare.Comparison` and picks, among the policies that
meet every constraint, the one with the best mean *objective* (net value by default; "best" is the direction
:data:`~collectsim.results.metric_info.METRIC_INFO` gives the metric, higher net value, lower DSO). The first policy
of the comparison is the *current practice*, what the recommendation is measured against.

Constraints are strings such as ``"dso<=45"``, ``"churned_customers<=10"`` or ``"bad_debt_ratio<=0.015"`` (also
``>=``, ``<`` and ``>``), written in the metric's stored unit: days for DSO, a fraction for a ratio (0.015 is
1.5%), integer cents for money (``"collection_costs<=5000000"`` is at most 50,000 in the scenario's currency),
counts for counts. A policy meets a constraint when its *mean* over the replications does; whether the policy's
95% interval of that mean reaches past the bound (a close call) is reported too.

The record says:

- ``gain``, ``lo``, ``hi``: the paired difference of the objective, recommended policy minus current practice, and
  its 95% interval, in the metric's stored unit (cents for net value); 0 and no interval when the current practice
  is recommended;
- ``constraints``: each constraint with ``met`` (the recommended policy's mean meets it), ``binds`` (it excludes a
  policy whose mean objective is better than the recommended one's), ``excludes`` (the policies it excludes) and
  ``close`` (the recommended policy's 95% interval of the mean contains the bound);
- ``tied_with``: the other policies meeting every constraint whose paired difference from the recommended one in
  the objective is not significant (its 95% interval contains zero); the text names the cheapest to run of them and
  the recommended one, by mean ``collection_costs`` (every cost of chasing, staff time included);
- ``robust`` and ``depends_on``: from the comparison's robustness check (``compare(..., robustness=True)``), the label
  of the recommended policy against the current practice in the objective (see
  :mod:`collectsim.experiments.robustness`). When the current practice is recommended, keeping it is robust when no
  other policy meeting the constraints turns significantly better at any setting; ``depends_on`` names the
  assumptions under which one does. ``None`` when robustness was not checked (or not for this metric);
- ``text``: one paragraph in plain words for a finance manager.

Totals (money, counts) are over the measured period (net value and money totals follow the invoices issued in it
to the end of the run-off; see :mod:`collectsim.results.metrics`); the text says "the measured year" only when the
measured period is 365 days.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from collectsim.config.schema import one_line
from collectsim.results.metric_info import METRIC_INFO, METRIC_NAMES, info

if TYPE_CHECKING:
    from collectsim.experiments.compare import Comparison

#: The default objective.
OBJECTIVE = "net_value"
#: What "cheaper to run" means among tied policies: the lower mean of this metric.
COST_METRIC = "collection_costs"

_OPERATORS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([^\s<>=]+)\s*$")


class RecommendError(ValueError):
    """A bad objective or constraint; the message is one line naming it."""


def objectives() -> tuple[str, ...]:
    """The metrics a recommendation can optimise: those with a preferred direction."""
    return tuple(m for m in METRIC_NAMES if METRIC_INFO[m].better)


def check_objective(metric: str) -> str:
    """``metric`` if it can be an objective; otherwise a :class:`RecommendError` naming it and the allowed ones."""
    if metric not in objectives():
        why = "has no better direction" if metric in METRIC_NAMES else "is not a metric"
        raise RecommendError(one_line(f"objective {metric!r} {why}; one of: {', '.join(objectives())}"))
    return metric


@dataclass(frozen=True)
class Constraint:
    """``metric op bound``, the bound in the metric's stored unit (cents, fractions, days, counts)."""

    metric: str
    op: str
    bound: float

    @property
    def text(self) -> str:
        bound = float(self.bound)
        bound = str(int(bound)) if bound.is_integer() and abs(bound) < 1e15 else repr(bound)
        return f"{self.metric}{self.op}{bound}"

    def holds(self, value: float) -> bool:
        return bool(_OPERATORS[self.op](value, self.bound))

    def said(self, currency: str) -> str:
        """The constraint as the text says it: money and shares also in the units people read."""
        kind = info(self.metric).kind
        if kind in ("money", "value"):
            return f"{self.text} (cents: {_value(self.metric, self.bound, currency)})"
        if kind == "share":
            return f"{self.text} ({_value(self.metric, self.bound, currency)})"
        return self.text


def parse_constraint(text: str) -> Constraint:
    """``"dso<=45"`` as a :class:`Constraint`; a :class:`RecommendError` naming the constraint when it is not one."""
    found = _CONSTRAINT.match(text)
    if not found:
        raise RecommendError(one_line(f"constraint {text!r}: write METRIC<=NUMBER (or >=, <, >), for example "
                                      f"dso<=45 or bad_debt_ratio<=0.015"))
    metric, op, number = found.groups()
    if metric not in METRIC_NAMES:
        raise RecommendError(one_line(f"constraint {text!r}: unknown metric {metric!r}; one of: "
                                      f"{', '.join(METRIC_NAMES)}"))
    try:
        bound = float(number)
    except ValueError:
        bound = math.nan
    if not math.isfinite(bound):
        raise RecommendError(one_line(f"constraint {text!r}: {number!r} is not a finite number"))
    return Constraint(metric, op, bound)


def parse_constraints(texts: Iterable[str | Constraint]) -> tuple[Constraint, ...]:
    return tuple(t if isinstance(t, Constraint) else parse_constraint(t) for t in texts)


@dataclass(frozen=True)
class Recommendation:
    """The policy to adopt (None when no policy meets the constraints), the gain over the current practice in the
    objective with its 95% interval, the constraints, ties, robustness, and the paragraph saying it."""

    policy: str | None
    objective: str
    gain: float | None
    lo: float | None
    hi: float | None
    constraints: tuple[dict, ...]  # {"text", "met", "binds", "excludes", "close"}
    robust: bool | None
    depends_on: tuple[str, ...]
    tied_with: tuple[str, ...]
    text: str
    current: str = ""

    def to_dict(self) -> dict:
        return {"policy": self.policy, "objective": self.objective, "gain": _num(self.gain), "lo": _num(self.lo),
                "hi": _num(self.hi), "constraints": [dict(c, excludes=list(c["excludes"])) for c in self.constraints],
                "robust": self.robust, "depends_on": list(self.depends_on), "tied_with": list(self.tied_with),
                "text": self.text}


def recommend(comp: Comparison, objective: str = OBJECTIVE, constraints: Sequence[str | Constraint] = ()
              ) -> Recommendation:
    """The policy to adopt from ``comp``: the best mean ``objective`` among those meeting every constraint.

    See the module's docstring for the rules. Raises :class:`RecommendError` for an unknown objective or a
    malformed constraint, and ValueError for a comparison without a complete replication.
    """
    check_objective(objective)
    cons = parse_constraints(constraints)
    if not comp.policies or comp.reps < 1:
        raise ValueError("a recommendation needs at least one complete replication of every policy")
    higher = info(objective).better == "higher"
    mean = {p: {m: comp.interval(p, m).mean for m in {objective, COST_METRIC, *(c.metric for c in cons)}}
            for p in comp.policies}
    current = comp.policies[0]
    excluded = {c: [p for p in comp.policies if not c.holds(mean[p][c.metric])] for c in cons}
    feasible = [p for p in comp.policies if all(p not in excluded[c] for c in cons)]

    def better(p: str, q: str) -> bool:
        return mean[p][objective] > mean[q][objective] if higher else mean[p][objective] < mean[q][objective]

    if not feasible:
        rows = tuple({"text": c.text, "met": None, "binds": bool(excluded[c]), "excludes": tuple(excluded[c]),
                      "close": None} for c in cons)
        worst = max(cons, key=lambda c: len(excluded[c]))
        n, total = len(excluded[worst]), len(comp.policies)
        how_many = (f"all {total} policies" if n == total and total > 1 else "the only policy" if total == 1
                    else f"{n} of the {total} policies")
        text = (f"No policy compared meets every constraint: {worst.said(comp.currency)} excludes {how_many} "
                f"({_names(excluded[worst])}). "
                f"Relax a constraint or compare other policies; until then there is nothing to recommend.")
        return Recommendation(None, objective, None, None, None, rows, None, (), (), text, current)
    best = feasible[0]
    for p in feasible[1:]:
        if better(p, best):
            best = p
    rows = []
    for c in cons:
        iv = comp.interval(best, c.metric)
        close = bool(not math.isnan(iv.lo) and iv.lo <= c.bound <= iv.hi)
        binds = any(better(p, best) for p in excluded[c])
        rows.append({"text": c.text, "met": True, "binds": binds, "excludes": tuple(excluded[c]), "close": close})
    if best == current:
        gain, lo, hi = 0.0, None, None
    else:
        diff = comp.difference(best, current, objective)
        gain, lo, hi = diff.mean, _or_none(diff.lo), _or_none(diff.hi)
    intervals = comp.reps >= 2
    tied = tuple(p for p in feasible if p != best and intervals
                 and not comp.difference(best, p, objective).excludes_zero)
    robust, depends_on, robustness_said = _robustness(comp, best, objective, [p for p in feasible if p != best])
    words = _Words(comp, objective, mean)
    parts = [words.lead(best, current, gain, lo, hi, excluded, cons)]
    parts += words.constraints(best, cons, rows)
    if intervals:
        parts.append(robustness_said)
    if tied:
        parts.append(words.ties(best, tied))
    return Recommendation(best, objective, gain, lo, hi, tuple(rows), robust, depends_on, tied,
                          " ".join(p for p in parts if p), current)


# --- robustness ---------------------------------------------------------------------------------------------------


def _robustness(comp: Comparison, best: str, objective: str, others: list[str]
                ) -> tuple[bool | None, tuple[str, ...], str]:
    """(robust, depends_on, the sentence) from the comparison's robustness check."""
    rob = comp.robustness
    what = info(objective).words
    if rob is None:
        return None, (), ("Whether this holds under other plausible behaviour assumptions was not checked (run the "
                          "comparison with --robustness to check).")
    labels = {(lab.a, lab.b): lab for lab in rob.labels if lab.metric == objective}
    current = comp.policies[0]
    if not labels and len(comp.policies) > 1:
        return None, (), f"The robustness check did not cover {what}, so whether this holds under other assumptions " \
                         f"was not checked."
    levels = {s.name: s for s in rob.settings}
    if best != current:
        lab = labels.get((current, best))
        if lab is None:
            return None, (), f"The robustness check did not cover {_q(best)}."
        if lab.robust:
            return True, (), (f"Its verdict against {_q(current)} on {what} ({lab.central}) is the same under every "
                              f"behaviour assumption tested, each at a low and a high value.")
        changes = "; ".join(f"{levels[name].dimension} {levels[name].level}: {v}" for name, v in lab.changes())
        return False, lab.depends_on, (f"Its verdict against {_q(current)} on {what} ({lab.central}) depends on "
                                       f"{_names(lab.depends_on, quote=False)} ({changes}).")
    turned = []  # (policy, setting name) where another policy beats the current practice
    for p in others:
        lab = labels.get((current, p))
        if lab is not None:
            turned += [(p, name) for name, v in lab.verdicts if v == "better" and name != "central"]
    if not turned:
        return True, (), ("Keeping it holds under every behaviour assumption tested: at no low or high value does "
                          "another policy become significantly better.")
    depends = tuple(dict.fromkeys(levels[name].dimension for _, name in turned))
    said = "; ".join(f"{_q(p)} at {levels[name].dimension} {levels[name].level}" for p, name in turned)
    return False, depends, (f"Keeping it depends on {_names(depends, quote=False)}: another policy becomes "
                            f"significantly better on {what} there ({said}).")


# --- words --------------------------------------------------------------------------------------------------------


class _Words:
    """The sentences of the paragraph, from the comparison's numbers."""

    def __init__(self, comp: Comparison, objective: str, mean: dict) -> None:
        self.comp, self.objective, self.mean = comp, objective, mean
        self.currency = comp.currency
        self.what = info(objective).words
        days = comp.measured[1] - comp.measured[0]
        period = ("over the measured year" if days == 365 else
                  f"over the measured period ({days} days)" if days > 0 else "over the measured period")
        self.period = f" {period}" if info(objective).kind in ("money", "value", "count") else ""

    def _change(self, gain: float) -> str:
        """'adds EUR 112,000 net value', 'lowers DSO by 2.3 days'."""
        size = _amount(self.objective, abs(gain), self.currency)
        if self.objective == "net_value":
            return f"{'adds' if gain >= 0 else 'gives up'} {size} net value"
        return f"{'raises' if gain >= 0 else 'lowers'} {self.what} by {size}"

    def _ci(self, gain: float, lo: float | None, hi: float | None) -> str:
        """The interval of the change in the direction the sentence says it (a reduction as positive numbers)."""
        if lo is None or hi is None:
            return "no interval: one replication"
        a, b = (lo, hi) if gain >= 0 else (-hi, -lo)
        return f"95% CI {_span(self.objective, a, b, self.currency)}"

    def lead(self, best: str, current: str, gain: float, lo: float | None, hi: float | None, excluded: dict,
             cons: Sequence[Constraint]) -> str:
        comp = self.comp
        if best == current:
            better = [p for p in comp.policies if p != best and self._better(p, best)]
            if not better:
                why = f"no other policy compared has a better mean {self.what}"
            else:
                why = (f"the policies with a better mean {self.what} ({_names(better)}) break a constraint")
            if comp.reps < 2:
                return (f"On one run each, the current practice, {_q(current)}, stays: {why}. One run gives no "
                        f"confidence interval, so this is no recommendation yet: compare the policies over "
                        f"replications (collectsim compare) to know how sure it is.")
            return f"Keep the current practice, {_q(current)}: {why}{self._after()}."
        broken = [c for c in cons if current in excluded[c]]
        against = _q(current) if broken else f"the current practice, {_q(current)}"
        change = f"{self._change(gain)}{self.period} against {against}"
        ci = self._ci(gain, lo, hi)
        if broken:
            start = (f"Adopt {_q(best)}: the current practice, {_q(current)}, breaks "
                     f"{_names([c.said(self.currency) for c in broken], quote=False)}, and {_q(best)} is the policy "
                     f"with the best mean {self.what} that meets every constraint. It {change} ({ci})")
        else:
            start = f"Adopt {_q(best)}: it {change} ({ci})"
        if comp.reps < 2:
            return (f"On one run each, {_q(best)} has the best {self.what}: it {change}. One run gives no confidence "
                    f"interval, so this is no recommendation yet: compare the policies over replications "
                    f"(collectsim compare) to know how sure it is.")
        if (lo > 0 or hi < 0):
            return start + f"{self._after()}."
        return (start + f"{self._after()}; the interval includes zero, so it is not shown to differ from "
                f"{_q(current)} in {self.what}, only to have the best mean.")

    def _after(self) -> str:
        return f", after {self.comp.reps} paired replication{'s' if self.comp.reps != 1 else ''}"

    def _better(self, p: str, q: str) -> bool:
        a, b = self.mean[p][self.objective], self.mean[q][self.objective]
        return a > b if info(self.objective).better == "higher" else a < b

    def constraints(self, best: str, cons: Sequence[Constraint], rows: list[dict]) -> list[str]:
        if not cons:
            return []
        means = ", ".join(f"{info(c.metric).words} {_level(c, self.mean[best][c.metric], self.currency)}"
                          for c in dict.fromkeys(cons))
        out = [f"It meets {_names([c.said(self.currency) for c in cons], quote=False)} ({means})."]
        close = [c for c, row in zip(cons, rows) if row["close"]]
        if close:
            out.append(f"That is a close call on {_names([c.text for c in close], quote=False)}: the 95% interval "
                       f"of its mean reaches past the bound.")
        for c, row in zip(cons, rows):
            if row["binds"]:
                beaten = [p for p in row["excludes"] if self._better(p, best)]
                which = "; ".join(f"{_q(p)} {_level(c, self.mean[p][c.metric], self.currency)}"
                                  for p in beaten)
                out.append(f"The constraint {c.text} binds: {_names(beaten)} would do better on {self.what} but "
                           f"break{'s' if len(beaten) == 1 else ''} it ({info(c.metric).words}: {which}).")
        return out

    def ties(self, best: str, tied: Sequence[str]) -> str:
        group = [best, *tied]
        cost = {p: self.mean[p][COST_METRIC] for p in group}
        cheapest = min(group, key=lambda p: cost[p])
        costs = ", ".join(f"{_q(p)} {_amount(COST_METRIC, cost[p], self.currency)}" for p in group)
        return (f"It is not significantly better on {self.what} than {_names(tied)} (the 95% interval of the "
                f"difference includes zero); of these, {_q(cheapest)} is the cheapest to run (mean collection costs "
                f"{costs}).")


def _q(name: str) -> str:
    return one_line(name)


def _names(items: Sequence[str], quote: bool = True) -> str:
    items = [_q(i) if quote else i for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def _or_none(x: float) -> float | None:
    return None if math.isnan(x) else x


def _plain(x: float) -> str:
    """Three significant digits, all of a number's whole part, thousands separated ('112,346', '2.35', '0.0123')."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else "n/a"
    decimals = max(0, 2 - math.floor(math.log10(abs(x))))
    text = f"{round(x, decimals):,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _amount(metric: str, x: float, currency: str) -> str:
    """A size of change in ``metric`` (stored unit) as people read it: 'EUR 112,346', '2.3 days', '0.15 points'."""
    kind = info(metric).kind
    if kind in ("money", "value"):
        return f"{one_line(currency)} {_plain(x / 100)}"
    if kind == "days":
        return f"{_plain(x)} days"
    if kind == "share":
        return f"{_plain(100 * x)} percentage points"
    if kind == "percent":
        return f"{_plain(x)} points"
    return _plain(x)


def _span(metric: str, lo: float, hi: float, currency: str) -> str:
    """'EUR 80,000 to 144,000', '1.9 to 2.7 days'."""
    kind = info(metric).kind
    if kind in ("money", "value"):
        return f"{one_line(currency)} {_plain(lo / 100)} to {_plain(hi / 100)}"
    unit = _amount(metric, 1.0, currency).partition(" ")[2]
    scale = 100 if kind == "share" else 1
    return f"{_plain(scale * lo)} to {_plain(scale * hi)}" + (f" {unit}" if unit else "")


def _level(c: Constraint, x: float, currency: str) -> str:
    """A policy's mean in a constraint's metric, with digits enough not to read as the bound when it is not
    (a DSO of 44.999 against dso<=45 is '44.999 days', not '45.0 days')."""
    said = _value(c.metric, x, currency)
    if x != c.bound and said == _value(c.metric, c.bound, currency) and info(c.metric).kind in ("days", "count"):
        decimals = next((d for d in range(2, 7) if round(x, d) != round(c.bound, d)), 6)
        said = f"{x:,.{decimals}f}" + (" days" if info(c.metric).kind == "days" else "")
    return said


def _value(metric: str, x: float, currency: str) -> str:
    """A level of ``metric`` (stored unit) as people read it, with the metric's own digits (so a mean just inside a
    bound never reads as the bound): 'EUR 1,234', '44.9 days', '1.52%', '8.25'."""
    what = info(metric)
    if what.kind in ("money", "value"):
        return f"{one_line(currency)} {_plain(x / 100)}"
    if what.kind == "days":
        return f"{x:,.1f} days"
    if what.kind == "share":
        return f"{100 * x:,.{max(2, what.digits)}f}%"
    if what.kind == "count" and float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.{max(2, what.digits)}f}"


__all__ = ["COST_METRIC", "OBJECTIVE", "Constraint", "Recommendation", "RecommendError",
           "check_objective", "objectives", "parse_constraint", "parse_constraints", "recommend"]
