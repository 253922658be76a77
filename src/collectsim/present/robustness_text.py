"""A robustness check as the command line prints it: one line per policy and metric, robust or what it depends on.

The verdict is the policy's against the first (the current practice) at the scenario's own values; "depends on
churn response (high: not significant)" says which assumption's low or high value changes it, and to what.
Below the table, one line says what was varied: each assumption's low / central / high value.
"""

from __future__ import annotations

from collectsim.config.schema import one_line
from collectsim.experiments.robustness import Label, Robustness
from collectsim.present.numbers import plain
from collectsim.results.metric_info import info


def _status(label: Label, rob: Robustness) -> str:
    """'robust', or 'depends on churn response (high: not significant), reminder response (low: worse)'."""
    if label.robust:
        return "robust"
    where = {s.name: s for s in rob.settings}
    changed = [where[name] for name, _ in label.changes()]
    verdicts = dict(label.verdicts)
    parts = [f"{dimension} (" + "; ".join(f"{s.level}: {verdicts[s.name]}" for s in changed if s.dimension == dimension)
             + ")" for dimension in label.depends_on]
    return "depends on " + ", ".join(parts)


def _levels(rob: Robustness) -> str:
    """'order elasticity 0.5 / 1 / 2; reminder response x0.5 / x1 / x2 (email, letter, phone); ...'"""
    frame = rob.settings_frame()
    parts = []
    for dimension, rows in frame.groupby("dimension", sort=False):
        if len(rows) == 1:
            row = rows.iloc[0]
            parts.append(f"{dimension} {plain(row['low'])} / {plain(row['central'])} / {plain(row['high'])}")
            continue
        ratios = {(round(r["low"] / r["central"], 6), round(r["high"] / r["central"], 6))
                  for _, r in rows.iterrows() if r["central"]}
        keys = ", ".join(k.rsplit(".", 1)[-1] for k in rows["key"])
        if len(ratios) == 1:
            lo, hi = ratios.pop()
            parts.append(f"{dimension} x{plain(lo)} / x1 / x{plain(hi)} ({keys})")
        else:
            values = ", ".join(f"{k.rsplit('.', 1)[-1]} {plain(r['low'])} / {plain(r['central'])} / "
                               f"{plain(r['high'])}" for k, (_, r) in zip(rows["key"], rows.iterrows()))
            parts.append(f"{dimension}: {values}")
    return "; ".join(parts)


def robustness_lines(rob: Robustness) -> list[str]:
    """The check as lines of text: a heading, a table (policy, metric, verdict, robust or depends on) and what was
    varied."""
    if not rob.labels:
        return ["Robustness: one policy only, no verdict to check"]
    first = rob.labels[0].a
    rows = [(one_line(lab.b), info(lab.metric).label, lab.central, _status(lab, rob)) for lab in rob.labels]
    header = ("policy", "metric", f"vs {one_line(first)}", "robust?")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header[:3])]
    lines = [f"Robustness of each verdict against {one_line(first)}: the comparison again with one assumption at a "
             f"time at its low and high value, {rob.reps} replications each, the same seeds"
             + (" (PARTIAL: interrupted)" if rob.partial else ""),
             "  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  " + header[3]]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[3] for r in rows]
    lines.append(f"  assumptions (low / central / high): {_levels(rob)}")
    return lines
