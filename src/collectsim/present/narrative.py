"""Results in words: headline tables, a comparison explained in plain sentences, and report checks.

A report is read by someone who will not open a confidence-interval table. ``explain`` turns a
:class:`~collectsim.experiments.compare.Comparison` into a few paragraphs (the verdicts, then what to conclude),
written from the numbers each time, so the words can never drift from the results. ``report_problems``
lists what would make the numbers untrustworthy (money not conserved, malformed intervals); the report
notebook asserts that list is empty, so a wrong report fails instead of being published.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import pandas as pd

from collectsim.experiments.compare import Comparison
from collectsim.results.metric_info import HEADLINE, NET_VALUE_PARTS, info, metric_rows
from collectsim.results.metrics import NET_VALUE_COMPONENTS, Metrics, net_value_of

#: The verdicts a finance manager reads first, in this order.
KEY_METRICS = HEADLINE


def headline_table(metrics: Metrics, currency: str) -> pd.DataFrame:
    """A run's headline metrics as two text columns, money in currency units (not cents)."""
    return pd.DataFrame(metric_rows(metrics, currency), columns=["metric", "value"])


def _diff_row(comp: Comparison, a: str, b: str, metric: str) -> dict:
    return comp.difference_row(a, b, metric)  # alone: the whole differences table costs every metric


def recommendation_markdown(comp: Comparison) -> str:
    """The comparison's recommendation (:meth:`Comparison.recommendation`: which policy to adopt against the first,
    why, and how sure) as one Markdown paragraph."""
    return f"**Recommendation.** {comp.recommendation().text}"


def explain(comp: Comparison, a: str | None = None, b: str | None = None) -> str:
    """Markdown paragraphs comparing policy ``a`` with ``b`` (default: the first two), from the results, led by the
    comparison's recommendation (:func:`recommendation_markdown`, over all of its policies)."""
    if len(comp.policies) < 2:
        raise ValueError("a comparison needs two policies to explain")
    a = a or comp.policies[0]
    b = b or comp.policies[1]
    rows = {m: _diff_row(comp, a, b, m) for m in KEY_METRICS}
    intro = (f"**How to read this.** Both policies were run {comp.reps} times on the *{comp.scenario}* portfolio. "
             f"Run j of {a} and run j of {b} met the same customers, orders and chance events, so each "
             f"difference below is the policy's doing, and its 95% confidence interval says how sure we are. "
             f"A difference whose interval includes zero is reported as not significant.")
    verdicts = "\n".join(f"- {rows[m]['verdict']}" for m in KEY_METRICS)
    net = rows["net_value"]
    if net["significant"]:
        ahead, behind = (a, b) if net["mean"] > 0 else (b, a)
        bottom = (f"**Bottom line.** On net value {_NET_VALUE_WORDS} {ahead} comes out ahead of {behind}.")
    else:
        bottom = (f"**Bottom line.** Net value {_NET_VALUE_WORDS} does not separate {a} from {b} after {comp.reps} "
                  f"replications: either the policies are close, or more replications are needed to tell them "
                  f"apart.")
    trade = _trade_offs(rows, a, b)
    return "\n\n".join([recommendation_markdown(comp), bottom, trade, intro, verdicts])


#: Net value in a parenthesis, for readers who meet it first in a sentence.
_NET_VALUE_WORDS = ("(the present value of the cash collected, less the cost of the goods sold, of collecting and "
                    "of winning new customers, and less the margin that customers lost in the period would have "
                    "brought after it)")


def _better(row: dict, a: str, b: str) -> str | None:
    """Which of ``a`` and ``b`` is better on the row's metric (significant differences only)."""
    way = info(row["metric"]).better
    if not row["significant"] or not way:
        return None
    return a if (row["mean"] > 0) == (way == "higher") else b


def _trade_offs(rows: dict[str, dict], a: str, b: str) -> str:
    """The trade-offs between two policies in words: who is better on what, and the mechanism a credit manager
    recognises when the cash winner keeps more customers despite a slower DSO."""
    wins = {a: [], b: []}
    for metric, row in rows.items():
        if metric == "net_value":
            continue
        winner = _better(row, a, b)
        if winner:
            wins[winner].append(metric)
    said = {p: ", ".join(info(m).words for m in ms) for p, ms in wins.items()}
    if not wins[a] and not wins[b]:
        return "**Trade-offs.** None of the headline measures differs significantly between the two policies."
    if not wins[a] or not wins[b]:
        leader = a if wins[a] else b
        rest = "; the others do not separate the policies" if len(wins[leader]) < len(rows) - 1 else ""
        return (f"**Trade-offs.** None: {leader} is better on every measure that differs significantly "
                f"({said[leader]}){rest}.")
    text = (f"**Trade-offs.** {a} is better on {said[a]}; {b} is better on {said[b]}. Which matters more is a "
            f"business choice: the numbers above say how much of each you trade.")
    for cash_winner in (a, b):
        other = b if cash_winner == a else a
        if ("cash_collected" in wins[cash_winner] and "dso" in wins[other]
                and "churned_customers" in wins[cash_winner]):
            fewer = abs(rows["churned_customers"]["mean"])
            text += (f" {cash_winner} collects more cash although its DSO is higher: it lost about {fewer:,.1f} "
                     f"fewer customers, who went on ordering and paying, while its invoices stayed open longer.")
    return text


def report_problems(comp: Comparison) -> list[str]:
    """What would make a comparison's numbers untrustworthy; an empty list means none found.

    Checks, for every replication, that the cohort's money adds up (invoiced = principal collected +
    discounts + credit notes + settlements forgiven + written off + outstanding, in integer cents) and,
    for every interval, that lo <= mean <= hi, all finite, and that the verdict matches significance.
    """
    problems = []
    if comp.reps < 2:
        problems.append(f"only {comp.reps} replication(s): no confidence intervals")
    for p in comp.policies:
        for r in comp.runs(p):
            m = r.metrics
            principal = m["cash_collected"] - m["fees_collected"]
            parts = (principal + m["discounts_granted"] + m["credit_notes"] + m["settlements_forgiven"]
                     + m["written_off"] + m["outstanding"])
            if parts != m["invoiced"]:
                problems.append(f"{p} replication {r.rep}: money not conserved (invoiced {m['invoiced']} != "
                                f"parts {parts} cents)")
            if min(m["outstanding"], m["written_off"], m["cash_collected"]) < 0:
                problems.append(f"{p} replication {r.rep}: a negative money total")
            if net_value_of({part: m[f"nv_{part}"] for part in NET_VALUE_COMPONENTS}) != m["net_value"]:
                problems.append(f"{p} replication {r.rep}: net value is not the sum of its parts")
    for _, row in comp.summary().iterrows():
        if comp.reps >= 2 and not _well_formed(row["lo"], row["mean"], row["hi"]):
            problems.append(f"interval of {row['metric']} for {row['policy']} is malformed: "
                            f"{row['lo']} <= {row['mean']} <= {row['hi']} fails")
    diffs = comp.differences()
    for a, b in combinations(comp.policies, 2):
        for _, row in diffs[(diffs["a"] == a) & (diffs["b"] == b)].iterrows():
            if comp.reps >= 2 and not _well_formed(row["lo"], row["mean"], row["hi"]):
                problems.append(f"difference in {row['metric']} ({a} minus {b}) is malformed")
            said_none = row["verdict"].startswith("no significant difference")
            if comp.reps >= 2 and said_none == bool(row["significant"]):
                problems.append(f"verdict on {row['metric']} contradicts its interval: {row['verdict']}")
    return problems


def _well_formed(lo: float, mean: float, hi: float) -> bool:
    return all(math.isfinite(x) for x in (lo, mean, hi)) and lo <= mean <= hi


def segments_table(scenario) -> pd.DataFrame:
    """The portfolio's segments: who they are, how much they buy, how late they pay unchased."""
    return pd.DataFrame([{"segment": s.name, "customers": s.customers, "invoices a year": s.orders_per_year,
                          "median invoice": s.amount_median,
                          "terms (days)": " / ".join(s.terms_mix) if s.terms_mix else s.terms_days,
                          "mean days late, unchased": s.days_late_mean, "dispute rate": s.dispute_rate}
                         for s in scenario.portfolio.segments])


def steps_table(policy) -> pd.DataFrame:
    """A policy's reminder ladder, one row per step (day relative to the due date)."""
    return pd.DataFrame([{"day from due date": s.offset, "channel": s.channel, "tone": s.tone}
                         for s in policy.reminders.steps])


def _format(value: float, kind: str) -> str:
    text = _format_signed(value, kind)
    return text[1:] if text.startswith("-") and not text.strip("-0.,%") else text  # never "-0.00%"


def _format_signed(value: float, kind: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    if kind == "money":
        return f"{value / 100:,.0f}"
    if kind == "value":
        return f"{value / 100:,.0f}"
    if kind == "share":
        return f"{100 * value:,.2f}%"
    if kind in ("days", "percent"):
        return f"{value:,.1f}"
    if kind == "score":
        return f"{value:,.3f}"
    return f"{value:,.1f}"


def differences_table(comp: Comparison, a: str | None = None, b: str | None = None,
                      metrics: tuple[str, ...] = KEY_METRICS) -> pd.DataFrame:
    """Both means, the paired difference a - b, its 95% interval and the verdict, formatted for reading.

    Money in currency units (not cents), shares in percent, DSO in days, goodwill on its 0-1 scale.
    """

    a = a or comp.policies[0]
    b = b or comp.policies[1]
    rows = []
    for m in metrics:
        words, kind = info(m).words, info(m).kind
        diff = comp.difference(a, b, m)
        rows.append({"metric": words, a: _format(comp.interval(a, m).mean, kind),
                     b: _format(comp.interval(b, m).mean, kind), "difference": _format(diff.mean, kind),
                     "95% CI": f"{_format(diff.lo, kind)} to {_format(diff.hi, kind)}",
                     "verdict": _diff_row(comp, a, b, m)["verdict"]})
    return pd.DataFrame(rows)


def net_value_table(comp: Comparison, policies: Sequence[str] | None = None) -> pd.DataFrame:
    """Where the net value difference comes from, for reading: one row per part of net value (costs negative) and
    one for net value itself; each policy's mean, then the paired difference first policy minus each other one
    with its 95% interval, in currency units.

    With two policies the difference columns are ``difference`` and ``95% CI``, as in :func:`differences_table`;
    with more, ``<first> - <other>`` and ``95% CI of <first> - <other>``. The parts add up to net value in every
    replication, so their means and differences add up too (to the rounding shown).
    """
    policies = list(policies or comp.policies)
    first, others = policies[0], policies[1:]
    rows = []
    for m in (*NET_VALUE_PARTS, "net_value"):
        part = info(m).label.removeprefix("Net value: ")
        row = {"part of net value": part[0].lower() + part[1:]}
        row.update({p: _format(comp.interval(p, m).mean, "value") for p in policies})
        for p in others:
            diff = comp.difference(first, p, m)
            name = "difference" if len(others) == 1 else f"{first} - {p}"
            row[name] = _format(diff.mean, "value")
            row["95% CI" if len(others) == 1 else f"95% CI of {name}"] = \
                f"{_format(diff.lo, 'value')} to {_format(diff.hi, 'value')}"
        rows.append(row)
    return pd.DataFrame(rows)
