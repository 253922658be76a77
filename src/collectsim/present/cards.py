"""Headline cards: the few figures a finance manager reads first, side by side for two policies.

One card per metric: each policy's mean, which one is better and by how much with the 95% interval of the
paired difference, and colour only where the interval says the difference is real (the better value
green, the worse red; grey when the policies cannot be told apart). The net value card also names the
parts of net value that moved most, so the headline number is never a black box.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from collectsim.experiments.compare import Comparison
from collectsim.experiments.stats import Interval
from collectsim.results.metric_info import info
from collectsim.results.metrics import NET_VALUE_COMPONENTS

#: The cards, in reading order.
CARD_METRICS = ("net_value", "cash_collected", "dso", "bad_debt_ratio", "churned_customers", "cost_to_collect")
GOOD, BAD, PLAIN = "#137333", "#b3261e", "#444"
_CARD_STYLE = ("display:inline-block;vertical-align:top;width:210px;min-height:118px;margin:0 8px 8px 0;"
               "padding:8px 10px;border:1px solid #ddd;border-radius:6px;background:#fafafa;font-size:13px")


def better_policy(diff: Interval, better: str) -> str:
    """ "A" or "B" when the interval of A - B excludes zero and the metric has a preferred direction, else ""."""
    if not better or not all(math.isfinite(x) for x in (diff.lo, diff.hi)) or diff.lo <= 0 <= diff.hi:
        return ""
    a_higher = diff.lo > 0
    return "A" if a_higher == (better == "higher") else "B"


def shown(metric: str, value: float, currency: str, difference: bool = False) -> str:
    """A card's number: money in whole currency units, shares in percent (a difference of shares in percentage
    points), no scientific notation and no "-0"."""
    if not math.isfinite(value):
        return "n/a"
    m = info(metric)
    x = m.in_display_units(value)
    unit = m.display_unit(currency)
    digits = 2 if m.kind == "share" else (0 if m.kind in ("money", "value") else 1)
    text = f"{x:,.{digits}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]
    if unit == "%":
        return f"{text} percentage points" if difference else f"{text}%"
    return f"{text} {unit}".strip()


def card(comp: Comparison, metric: str, a: str, b: str) -> str:
    """One metric's card as HTML."""
    m = info(metric)
    diff = comp.difference(a, b, metric)
    winner = better_policy(diff, m.better)
    colour = {"A": (GOOD, BAD), "B": (BAD, GOOD)}.get(winner, (PLAIN, PLAIN))
    lines = [f"<div style='font-weight:600;margin-bottom:4px'>{html.escape(m.label)}</div>"]
    for side, name, hue in (("A", a, colour[0]), ("B", b, colour[1])):
        value = shown(metric, comp.interval(name, metric).mean, comp.currency)
        lines.append(f"<div><span style='color:#777'>{side}</span> "
                     f"<span style='color:{hue};font-size:16px;font-weight:600'>{html.escape(value)}</span></div>")
    size = shown(metric, abs(diff.mean), comp.currency, difference=True)
    span = f"{shown(metric, diff.lo, comp.currency, True)} to {shown(metric, diff.hi, comp.currency, True)}"
    if winner:
        verdict = f"<b>{winner} better</b> by {html.escape(size)}"
    elif m.better:
        verdict = "no clear difference"
    else:
        verdict = f"A - B: {html.escape(shown(metric, diff.mean, comp.currency, True))}"
    lines.append(f"<div style='margin-top:4px'>{verdict}<br><span style='color:#777'>95% CI of A - B: "
                 f"{html.escape(span)}</span></div>")
    if metric == "net_value":
        lines.append(_moved_most(comp, a, b))
    return f"<div class='collectsim-card' style='{_CARD_STYLE}'>{''.join(lines)}</div>"


def _moved_most(comp: Comparison, a: str, b: str, parts: int = 2) -> str:
    """The parts of net value whose difference A - B is largest, as one small line."""
    moves = sorted(((comp.difference(a, b, f"nv_{p}").mean, p) for p in NET_VALUE_COMPONENTS),
                   key=lambda item: -abs(item[0]))[:parts]
    said = [f"{p.replace('_', ' ')} {'+' if d >= 0 else '-'}{shown('net_value', abs(d), comp.currency)}"
            for d, p in moves if math.isfinite(d) and d != 0]
    if not said:
        return ""
    return ("<div style='margin-top:4px;color:#555;font-size:12px'>A - B moved most by: "
            + html.escape("; ".join(said)) + "</div>")


def headline_cards(comp: Comparison, a: str | None = None, b: str | None = None,
                   metrics: Sequence[str] = CARD_METRICS, out_of_date: bool = False) -> str:
    """The cards of ``metrics`` for policies ``a`` and ``b`` (the comparison's first two by default), as HTML.

    ``out_of_date`` greys them out under a banner: the levers changed since these numbers were computed.
    """
    a = a or comp.policies[0]
    b = b or comp.policies[1]
    legend = (f"<div style='margin-bottom:6px;color:#555'>A = {html.escape(a)}, B = {html.escape(b)}; "
              f"{comp.reps} replications each, on the same customers and chance events.</div>")
    body = legend + "".join(card(comp, m, a, b) for m in metrics)
    if not out_of_date:
        return f"<div class='collectsim-cards'>{body}</div>"
    banner = ("<div class='collectsim-out-of-date' style='padding:4px 8px;margin-bottom:6px;background:#fff4ce;"
              "border:1px solid #e0c060;border-radius:4px'><b>Out of date:</b> a lever changed since these "
              "results were computed. Press <b>Run</b> to update them.</div>")
    return f"<div class='collectsim-cards'>{banner}<div style='opacity:0.45'>{body}</div></div>"
