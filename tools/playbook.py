"""The playbook's evidence: run the comparisons, fill the chapters, record what they came from.

The chapters in ``playbook/`` are written with placeholders such as
``{{ev:baseline.ff_vs_gentle.cash.verdict}}`` instead of figures. ``make playbook`` (``python -m
playbook``) compares the six strategies on each portfolio archetype with common random
numbers, runs a small sensitivity analysis over assumed effect sizes, and writes:

- ``playbook/evidence/values.json``: every placeholder's value;
- ``playbook/evidence/<archetype>/``: summary, differences and replication tables (CSV) and figures;
- ``playbook/evidence/sensitivity.csv``: the strategy ranking under each variant of the assumptions;
- ``playbook/evidence/manifest.json``: a hash of the scenario files and model code the evidence came from;
- ``playbook/filled/``: the chapters with every placeholder filled.

Tests then refuse stale evidence (inputs changed since the manifest), chapters with a figure typed in
by hand (digits outside placeholders and a short allow-list), and placeholders without a value. With
``--fill-only`` the chapters are refilled from ``values.json`` without simulating, after a text edit.

Placeholder keys: ``<archetype>.<policy>.<metric>`` (the mean over replications),
``<archetype>.<a>_vs_<b>.<metric>.{diff,verdict,sig}`` (paired difference a - b) and
``<archetype>.sens.*`` (sensitivity), with short names from :data:`SHORT` and :data:`METRICS`, plus a
few values read from the code (``law.*``, ``discount.*``, ``run.*``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from repository import repository_root

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario, load_scenario, parse_scenario, read_toml
from collectsim.config.schema import ScenarioError
from collectsim.experiments.compare import Comparison, compare
from collectsim.experiments.stats import Interval, paired_interval
from collectsim.experiments.verdicts import verdict
from collectsim.files.exports import write_csv
from collectsim.results.metric_info import info

ROOT = repository_root()  # a build tool: it reads the repository it is run in
PLAYBOOK = ROOT / "playbook"
EVIDENCE = PLAYBOOK / "evidence"
BUILD = PLAYBOOK / "filled"  # not "build": .gitignore drops build/ directories

#: Portfolio archetypes (scenario file stems) and how the chapters name them.
ARCHETYPES = {"baseline": "SME wholesaler", "large-manufacturers": "supplier to a few large manufacturers",
              "seasonal": "supplier to seasonal businesses"}

#: Short names for strategies in placeholder keys.
SHORT = {"as-is": "asis", "firm-and-fair": "ff", "gentle": "gentle", "aggressive": "aggr",
         "flexible-plans": "plans", "discount-led": "disc"}

#: Short names for metrics in placeholder keys.
METRICS = {"cash": "cash_collected", "dso": "dso", "bad_debt": "bad_debt_ratio", "cost": "cost_to_collect",
           "goodwill": "mean_goodwill", "churn": "churned_customers", "net": "net_value",
           "late": "share_paid_late", "days_late": "mean_days_late", "margin_lost": "margin_lost_to_churn",
           "reminders": "reminders_per_customer", "plans_agreed": "plans_agreed",
           "plans_defaulted": "plans_defaulted", "discounts": "discounts_granted",
           "escalated": "escalated_invoices", "recovery": "recovery_rate", "written_off": "written_off",
           "collection_costs": "collection_costs", "cei": "cei", "fees": "fees_collected",
           "settled": "settlements_forgiven", "invoices": "invoices"}

#: Pairs (a, b) whose paired differences the chapters may quote.
PAIRS = ([("firm-and-fair", b) for b in SHORT if b != "firm-and-fair"]
         + [(a, "as-is") for a in ("gentle", "aggressive", "flexible-plans", "discount-led")]
         + [("flexible-plans", "gentle"), ("gentle", "aggressive")])

#: Strategies ranked in the sensitivity analysis, and the metric that ranks them (the one bottom line).
SENS_POLICIES = ("firm-and-fair", "gentle", "aggressive")
SENS_METRIC = "net_value"

#: Variants of assumed effect sizes (docs/sources.md): name -> (plain words, scenario key -> value).
VARIANTS: dict[str, tuple[str, dict[str, float]]] = {
    "default": ("the scenario's own assumptions", {}),
    "tone-no-effect": ("firm and final wording speed payment no more than friendly wording",
                       {"behaviour.tone_response.firm": 1.0, "behaviour.tone_response.final": 1.0}),
    "tone-strong": ("firm and final wording work much better than assumed (x1.6 and x2.2)",
                    {"behaviour.tone_response.firm": 1.6, "behaviour.tone_response.final": 2.2}),
    "churn-mild": ("customers shrug off a damaged relationship (churn slope 1 instead of 3)",
                   {"behaviour.churn_goodwill_slope": 1.0}),
    "churn-harsh": ("customers leave twice as readily after a damaged relationship (churn slope 6)",
                    {"behaviour.churn_goodwill_slope": 6.0}),
    "firmness-cheap": ("firm and final wording cost a third of the assumed goodwill",
                       {"behaviour.tone_goodwill.firm": -0.01, "behaviour.tone_goodwill.final": -0.027}),
    "escalation-cheap": ("agencies and courts cost a third of the assumed goodwill",
                         {"behaviour.agency_goodwill": -0.05, "behaviour.legal_goodwill": -0.1}),
}

#: Single levers tried on the SME wholesaler (the baseline), each against the strategy it is added to,
#: with common random numbers: short name -> (policy label, base strategy, policy keys, portfolio).
#: Portfolio "book" is the baseline as written; "arrivals" sets new customers who apply during the run
#: at the rate that replaces each segment's expected churn (customers x churn_per_year), so that a
#: credit check has applicants to act on (the bundled baseline already takes on customers at that rate). The lever
#: values are the documented defaults, not tuned.
LEVERS: dict[str, tuple[str, str, dict[str, object], str]] = {
    "hold": ("firm-and-fair with credit hold", "firm-and-fair", {"escalation.credit_hold": True}, "book"),
    "request": ("firm-and-fair granting plans on request", "firm-and-fair", {"plans.on_request": True}, "book"),
    "terms": ("firm-and-fair with extended terms", "firm-and-fair", {"extended_terms.offer": True}, "book"),
    "plans_wo": ("flexible-plans writing off broken plans", "flexible-plans", {"plans.on_default": "write_off"},
                 "book"),
    "check": ("firm-and-fair with credit checks", "firm-and-fair", {"onboarding.credit_check": True}, "arrivals"),
    "limit": ("firm-and-fair with credit checks and limits", "firm-and-fair",
              {"onboarding.credit_check": True, "onboarding.credit_limit": "two-months"}, "arrivals"),
}
#: The scenario file the levers are tried on.
LEVER_ARCHETYPE = "baseline"
#: Metrics quoted for every lever (short names from METRICS plus the lever metrics below).
LEVER_METRICS = {**METRICS, "terms_agreed": "terms_agreed", "sales_refused": "sales_refused",
                 "new_customers": "new_customers",
                 "applicants_refused": "customers_refused", "invoiced": "invoiced"}

#: Modules that only present results; changing them does not make the evidence stale.
#: A new module counts as model code until it is listed here (the safe direction: evidence goes stale).
#: Code that cannot change a figure of the evidence: whole layers, and single modules of the others.
PRESENTATION_LAYERS = {"apps", "present", "files"}
PRESENTATION = {"letters.py", "__main__.py"}

PLACEHOLDER = re.compile(r"\{\{ev:([A-Za-z0-9_.\-]+)\}\}")

#: Figures a chapter may type: heading numbers, legal references, years, UK fixed sums, 'B2B'.
ALLOWED_NUMBERS = (
    re.compile(r"^#+\s+[\d.]+\s", re.M),  # heading numbers: '## 2.3 Tone'
    re.compile(r"\bB2B\b"), re.compile(r"\b2011/7/EU\b"), re.compile(r"\b(?:19|20)\d\d\b"),  # years
    re.compile(r"\b(?:Article|Articles|section|sections|§)\s*\d+(?:\.\d+)*(?:\s*(?:and|to|-)\s*\d+)?", re.I),
    re.compile(r"£(?:40|70|100|1,000|10,000)\b"),  # UK Late Payment Act fixed sums and their bands
    re.compile(r"\bchapter \d\b", re.I),
    re.compile(r"\b95% (?:confidence|CI)\b"),  # the stated confidence level, a convention, not a result
    re.compile(r"\b\d{2}-[a-z-]+\.md\b"),  # links to chapter files
)


class PlaybookError(ValueError):
    """A chapter or evidence problem, naming the file and what is wrong."""


# --- inputs and their hash ---------------------------------------------------------------------------


def input_files(root: Path = ROOT) -> list[Path]:
    """Scenario files and model code the evidence depends on, in a fixed order."""
    scen = sorted((root / "scenarios").rglob("*.toml"))
    package = root / "src" / "collectsim"
    code = sorted(p for p in package.rglob("*.py") if p.name not in PRESENTATION
                  and p.relative_to(package).parts[0] not in PRESENTATION_LAYERS)
    return scen + code


def file_hashes(root: Path = ROOT) -> dict[str, str]:
    """sha256 of each input file, keyed by its path relative to ``root``."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes().replace(b"\r\n", b"\n")).hexdigest()
            for p in input_files(root)}


def inputs_hash(hashes: dict[str, str]) -> str:
    """One hash over every input file's path and hash."""
    text = "\n".join(f"{k} {v}" for k, v in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def stale_inputs(manifest: dict, root: Path = ROOT) -> list[str]:
    """Files added, removed or changed since ``manifest`` was written (empty when up to date)."""
    now, then = file_hashes(root), manifest.get("files", {})
    return sorted(k for k in set(now) | set(then) if now.get(k) != then.get(k))


# --- chapters ----------------------------------------------------------------------------------------


def chapter_files(playbook: Path = PLAYBOOK) -> list[Path]:
    """The chapter sources (``playbook/NN-*.md``) and the index (``playbook/README.md``)."""
    return [playbook / "README.md", *sorted(playbook.glob("[0-9][0-9]-*.md"))]


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def fill(text: str, values: dict[str, str], source: str = "<text>") -> str:
    """Replace every placeholder by its value; a placeholder without one is an error naming it."""
    def one(m: re.Match) -> str:
        key = m.group(1)
        if key not in values:
            line = text.count("\n", 0, m.start()) + 1
            raise PlaybookError(f"{source}:{line}: no evidence value for {{{{ev:{key}}}}}; run `make playbook`")
        return values[key]
    return PLACEHOLDER.sub(one, text)


def typed_numbers(text: str, source: str = "<text>") -> list[str]:
    """Digits in a chapter outside placeholders and the allow-list, as 'file:line: snippet'."""
    def blank(m: re.Match) -> str:  # same length, so columns still point into the original text
        return re.sub(r"\d", "#", m.group(0))

    cleaned = PLACEHOLDER.sub(blank, text)
    cleaned = re.sub(r"`[^`\n]*`", blank, cleaned)  # code: policy keys such as `tone_response.firm`
    for pattern in ALLOWED_NUMBERS:
        cleaned = pattern.sub(blank, cleaned)
    found = []
    originals = text.splitlines()
    for i, line in enumerate(cleaned.splitlines()):
        for m in re.finditer(r"\d[\d.,%]*", line):
            found.append(f"{source}:{i + 1}: {originals[i][max(0, m.start() - 20):m.end() + 20].strip()}")
    return found


def build_chapters(values: dict[str, str], playbook: Path = PLAYBOOK, build: Path = BUILD) -> list[Path]:
    """Write every chapter, filled, to ``build`` (the figures are linked from ``../evidence``)."""
    build.mkdir(parents=True, exist_ok=True)
    out = []
    for path in chapter_files(playbook):
        text = fill(path.read_text(encoding="utf-8"), values, str(path.relative_to(playbook.parent)))
        text = text.replace("](evidence/", "](../evidence/")
        target = build / path.name
        target.write_text(text, encoding="utf-8")
        out.append(target)
    return out


# --- numbers in words ----------------------------------------------------------------------------------


def _kind(metric: str) -> str:
    return info(metric).kind


def fmt_mean(metric: str, value: float, currency: str) -> str:
    """A policy's mean of ``metric`` as a chapter would say it."""
    kind = _kind(metric)
    if isinstance(value, float) and math.isnan(value):
        return "not defined"
    if kind in ("money", "value"):
        return f"{currency} {value / 100:,.0f}"
    if kind == "days":
        return f"{value:,.1f} days"
    if kind == "share":
        return f"{100 * value:.2f}%"
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "score":
        return f"{value:.3f}"
    return f"{value:,.1f}"


def fmt_diff(metric: str, mean: float, mean_b: float, currency: str, percent: bool = True, unit: bool = True) -> str:
    """A paired mean difference a - b in the unit a reader expects (money also in percent of b).

    Shares are said in percentage points ('pp'); ``unit=False`` leaves the unit of days and shares off.
    """
    kind = _kind(metric)
    if math.isnan(mean):
        return "not defined"
    sign = "+" if mean > 0 else ("-" if mean < 0 else "")
    if kind in ("money", "value"):
        pct = f" ({sign}{abs(100 * mean / mean_b):.1f}%)" if mean_b and percent else ""
        return f"{sign}{currency} {abs(mean) / 100:,.0f}{pct}"
    if kind == "days":
        return f"{sign}{abs(mean):.1f}" + (" days" if unit else "")
    if kind == "share":
        return f"{sign}{abs(100 * mean):.2f}" + (" pp" if unit else "")
    if kind == "score":
        return f"{sign}{abs(mean):.3f}"
    return f"{sign}{abs(mean):,.1f}"


# --- running the evidence -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How much to run: replications for the main comparison and for each sensitivity variant."""

    reps: int = 5
    sens_reps: int = 2
    workers: int = 2
    progress: bool = True


def with_behaviour(path: Path, overrides: dict[str, float]) -> Scenario:
    """The scenario file at ``path`` with scenario keys (dotted) set to new values, validated like a file."""
    data = read_toml(path)
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        table = data
        for p in parents:
            table = table.setdefault(p, {})
        table[leaf] = value
    return parse_scenario(data, str(path), path.parent)


def comparison_values(arch: str, comp: Comparison) -> dict[str, str]:
    """Placeholder values from one archetype's comparison."""
    cur = comp.currency
    vals: dict[str, str] = {}
    for policy in comp.policies:
        for short_m, metric in METRICS.items():
            vals[f"{arch}.{SHORT[policy]}.{short_m}"] = fmt_mean(metric, comp.interval(policy, metric).mean, cur)
    for short_m in ("net", "cash", "goodwill"):
        order = sorted(comp.policies, key=lambda p: -comp.interval(p, METRICS[short_m]).mean)
        vals[f"{arch}.rank.{short_m}"] = " > ".join(order)
        vals[f"{arch}.best.{short_m}"] = order[0]
    for a, b in PAIRS:
        if a not in comp.policies or b not in comp.policies:
            continue
        for short_m, metric in METRICS.items():
            iv = comp.difference(a, b, metric)
            mean_b = comp.interval(b, metric).mean
            key = f"{arch}.{SHORT[a]}_vs_{SHORT[b]}.{short_m}"
            vals[f"{key}.diff"] = fmt_diff(metric, iv.mean, mean_b, cur)
            vals[f"{key}.ci"] = (f"{fmt_diff(metric, iv.lo, mean_b, cur, False, False)} to "
                                 f"{fmt_diff(metric, iv.hi, mean_b, cur, False)}")
            vals[f"{key}.verdict"] = verdict(a, b, metric, iv, mean_b, cur)
            vals[f"{key}.sig"] = "significant" if iv.excludes_zero else "not significant"
    return vals


def _means(comp: Comparison, reps: int) -> dict[str, float]:
    """Net value of each sensitivity policy, averaged over the first ``reps`` replications."""
    return {p: float(sum(comp.values(p, SENS_METRIC)[:reps]) / reps) for p in SENS_POLICIES}


def sensitivity(arch: str, path: Path, main: Comparison, settings: Settings) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rank :data:`SENS_POLICIES` by net value under each variant of the assumptions; say what changes.

    Every variant runs replications 1..sens_reps with the main comparison's seeds (common random
    numbers), and the default is read from those same replications of ``main``, so a change of order
    comes from the assumption, not from different luck.
    """
    k = min(settings.sens_reps, main.reps)
    rows, rankings = [], {}
    for name, (words, overrides) in VARIANTS.items():
        if overrides:
            comp = compare(with_behaviour(path, overrides), list(SENS_POLICIES), reps=k,
                           workers=settings.workers, progress=settings.progress)
        else:
            comp = main
        means = _means(comp, k)
        ranking = sorted(SENS_POLICIES, key=lambda p: -means[p])
        rankings[name] = ranking
        rows.append({"archetype": arch, "variant": name, "assumption": words, "reps": k,
                     "ranking": " > ".join(ranking), **{f"net_value_{SHORT[p]}": means[p] for p in SENS_POLICIES},
                     "ff_minus_gentle": means["firm-and-fair"] - means["gentle"],
                     "ff_minus_aggr": means["firm-and-fair"] - means["aggressive"]})
    default = rankings["default"]
    n_var = len(VARIANTS) - 1
    changed = [n for n in VARIANTS if n != "default" and rankings[n] != default]
    top_changed = [n for n in changed if rankings[n][0] != default[0]]
    vals = {f"{arch}.sens.ranking": ", then ".join(default), f"{arch}.sens.holds": f"{n_var - len(changed)}"}
    if not changed:
        text = f"the order {' > '.join(default)} on net value held under every one of the {n_var} variants"
    else:
        parts = [f"when {VARIANTS[n][0]}, it becomes {' > '.join(rankings[n])}" for n in changed]
        text = (f"the order {' > '.join(default)} on net value held in {n_var - len(changed)} of the {n_var} "
                f"variants; " + "; ".join(parts))
    vals[f"{arch}.sens.sentence"] = text
    if top_changed:
        vals[f"{arch}.sens.top"] = (f"the strategy at the top changes under {len(top_changed)} of the {n_var} "
                                    f"variants ({', '.join(VARIANTS[n][0] for n in top_changed)})")
    else:
        vals[f"{arch}.sens.top"] = f"{default[0]} stays at the top under all {n_var} variants"
    return pd.DataFrame(rows), vals


def sensitivity_table(frame: pd.DataFrame) -> str:
    """A Markdown table: one row per variant, one column per archetype, each cell the ranking by net value."""
    archs = list(ARCHETYPES)
    lines = ["| assumption | " + " | ".join(ARCHETYPES[a] for a in archs) + " |", "|---" * (len(archs) + 1) + "|"]
    for name, (words, _) in VARIANTS.items():
        cells = []
        for a in archs:
            row = frame[(frame["archetype"] == a) & (frame["variant"] == name)]
            cells.append(row["ranking"].iloc[0] if len(row) else "")
        lines.append(f"| {words} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def code_values() -> dict[str, str]:
    """Values the chapters quote from the code and strategy files rather than from simulation."""
    base = PolicySpec(name="defaults")
    disc = load_scenario(ROOT / "scenarios" / "baseline.toml").policy("discount-led").discount
    terms = 30  # the baseline's terms (checked below)
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    if any(s.terms_days != terms for s in scenario.portfolio.segments):
        raise PlaybookError("scenarios/baseline.toml: the discount example assumes 30-day terms everywhere")
    d, window = disc.rate, disc.window_days
    cost = d / (1 - d) * 365 / (terms - window)
    return {
        "law.eu_margin": f"{100 * base.fees.interest_margin:.0f} percentage points",
        "law.eu_compensation": f"EUR {base.fees.fixed_compensation:,.0f}",
        "discount.rate": f"{100 * d:.0f}%", "discount.window": f"{window} days", "discount.terms": f"{terms} days",
        "discount.days_sooner": f"{terms - window} days",
        "discount.annual_cost": f"{100 * cost:.1f}%",
        "discount.label": f"{100 * d:.0f}/{window} net {terms}",
    }


def with_segments(path: Path, values: dict[str, object] | None = None,
                  per_segment: dict[str, dict[str, object]] | None = None) -> Scenario:
    """The scenario at ``path`` with segment keys set on every segment (``values``) or per segment name."""
    data = read_toml(path)
    for seg in data["portfolio"]["segments"]:
        seg.update(values or {})
        seg.update((per_segment or {}).get(seg["name"], {}))
    return parse_scenario(data, str(path), path.parent)


def with_arrivals(path: Path) -> Scenario:
    """The scenario with new customers applying at the rate that replaces each segment's expected churn."""
    book = load_scenario(path)
    rates = {s.name: {"new_customers_per_year": round(s.customers * s.churn_per_year, 3)}
             for s in book.portfolio.segments}
    return with_segments(path, per_segment=rates)


def two_months_of_purchases(scenario: Scenario) -> float:
    """A credit limit of about two months of an average customer's purchases (mean invoice x orders / 6).

    The mean of a log-normal invoice amount is median x exp(sigma^2 / 2); averaged over customers.
    """
    segs = scenario.portfolio.segments
    yearly = sum(s.customers * s.orders_per_year * s.amount_median * math.exp(s.amount_sigma ** 2 / 2) for s in segs)
    return round(yearly / sum(s.customers for s in segs) / 6, -2)


def lever_specs(scenario: Scenario, portfolio: str) -> list:
    """The base strategies and their lever variants tried on one portfolio ("book" or "arrivals")."""
    limit = two_months_of_purchases(scenario)
    specs, seen = [], set()
    for label, base, keys, port in LEVERS.values():
        if port != portfolio:
            continue
        if base not in seen:
            specs.append(scenario.policy(base))
            seen.add(base)
        keys = {k: (limit if v == "two-months" else v) for k, v in keys.items()}
        specs.append(scenario.policy(base).with_values({"name": label, **keys}))
    return specs


def gross_profit(comp: Comparison, policy: str, margin: float) -> list[float]:
    """Per replication: cash - cost of the goods invoiced ((1 - margin) x invoiced) - collection costs
    - margin lost to churn, in cents. Like net value it counts a refused sale as its margin lost (goods not
    supplied cost nothing); unlike it, nothing is discounted and staff and acquisition costs are left out."""
    cash, inv = comp.values(policy, "cash_collected"), comp.values(policy, "invoiced")
    costs, lost = comp.values(policy, "collection_costs"), comp.values(policy, "margin_lost_to_churn")
    return [c - (1 - margin) * i - k - m for c, i, k, m in zip(cash, inv, costs, lost)]


def _say_money(a: str, b: str, words: str, iv: Interval, mean_b: float, currency: str) -> str:
    """A verdict in money (currency and percent of b) for a quantity verdicts.py does not know."""
    lo, hi = (fmt_diff("cash_collected", x, mean_b, currency, False) for x in (iv.lo, iv.hi))
    ci = f"{lo} to {hi}"
    if not iv.excludes_zero:
        return f"no significant difference in {words} between {a} and {b} (95% CI of {a} minus {b}: {ci})"
    more = "more" if iv.mean > 0 else "less"
    return f"{a} earns {currency} {abs(iv.mean) / 100:,.0f} {more} {words} than {b} (95% CI of the difference: {ci})"


def lever_values(comps: dict[str, Comparison], margin: float, eom: tuple[list[float], list[float]] | None,
                 currency: str) -> dict[str, str]:
    """Placeholder values ``lever.<name>.<metric>.{mean,base,diff,ci,verdict,sig}`` for every lever."""
    vals: dict[str, str] = {}
    for name, (label, base, _, port) in LEVERS.items():
        comp = comps[port]
        key = f"lever.{name}"
        vals[f"{key}.label"] = label
        for short_m, metric in LEVER_METRICS.items():
            vals[f"{key}.{short_m}.mean"] = fmt_mean(metric, comp.interval(label, metric).mean, currency)
            vals[f"{key}.{short_m}.base"] = fmt_mean(metric, comp.interval(base, metric).mean, currency)
            iv, mean_b = comp.difference(label, base, metric), comp.interval(base, metric).mean
            vals[f"{key}.{short_m}.diff"] = fmt_diff(metric, iv.mean, mean_b, currency)
            vals[f"{key}.{short_m}.ci"] = (f"{fmt_diff(metric, iv.lo, mean_b, currency, False, False)} to "
                                          f"{fmt_diff(metric, iv.hi, mean_b, currency, False)}")
            vals[f"{key}.{short_m}.verdict"] = verdict(label, base, metric, iv, mean_b, currency)
            vals[f"{key}.{short_m}.sig"] = "significant" if iv.excludes_zero else "not significant"
        a, b = gross_profit(comp, label, margin), gross_profit(comp, base, margin)
        iv, mean_b = paired_interval(a, b), float(sum(b) / len(b))
        vals[f"{key}.profit.diff"] = fmt_diff("cash_collected", iv.mean, mean_b, currency)
        vals[f"{key}.profit.verdict"] = _say_money(label, base, "gross profit after collection costs", iv,
                                                   mean_b, currency)
    if eom is not None:
        iv = paired_interval(*eom)
        mean_b = float(sum(eom[1]) / len(eom[1]))
        vals["lever.eom.dso.diff"] = fmt_diff("dso", iv.mean, mean_b, currency)
        vals["lever.eom.dso.ci"] = (f"{fmt_diff('dso', iv.lo, mean_b, currency, False, False)} to "
                                    f"{fmt_diff('dso', iv.hi, mean_b, currency, False)}")
        vals["lever.eom.dso.verdict"] = verdict("firm-and-fair on end-of-month terms", "firm-and-fair", "dso",
                                                iv, mean_b)
    return vals


def run_levers(root: Path, settings: Settings, evidence: Path) -> dict[str, str]:
    """Try each lever of :data:`LEVERS` (and end-of-month terms) on the baseline; write tables; return values."""
    path = root / "scenarios" / f"{LEVER_ARCHETYPE}.toml"
    book = load_scenario(path)
    arrivals = with_arrivals(path)
    out = evidence / "levers"
    out.mkdir(parents=True, exist_ok=True)
    comps = {}
    for port, scenario in (("book", book), ("arrivals", arrivals)):
        comp = compare(scenario, lever_specs(book, port), reps=settings.reps, workers=settings.workers,
                       progress=settings.progress)
        comps[port] = comp
        write_csv(comp.summary(), out / f"{port}-summary.csv")
        write_csv(comp.differences(), out / f"{port}-differences.csv")
        write_csv(comp.replication_table(), out / f"{port}-replications.csv")
    eom_scn = with_segments(path, {"terms_end_of_month": True})
    eom_comp = compare(eom_scn, ["firm-and-fair"], reps=settings.reps, workers=settings.workers,
                       progress=settings.progress)
    write_csv(eom_comp.summary(), out / "end-of-month-summary.csv")
    eom = (eom_comp.values("firm-and-fair", "dso"), comps["book"].values("firm-and-fair", "dso"))
    vals = lever_values(comps, book.economics.gross_margin, eom, book.economics.currency)
    ff = PolicySpec(name="defaults")
    vals.update({
        "lever.hold.after_days": f"{ff.escalation.credit_hold_after_days_overdue} days",
        "lever.terms.after_days": f"{ff.extended_terms.after_days_overdue} days",
        "lever.terms.milestones": " and ".join(f"{100 * m.share:.0f}% after {m.after_days} days"
                                               for m in ff.extended_terms.milestones),
        "lever.check.refuse_share": f"{100 * ff.onboarding.refuse_share:.0f}%",
        "lever.check.cost": f"{book.economics.currency} {ff.onboarding.check_cost:,.0f}",
        "lever.limit.amount": f"{book.economics.currency} {two_months_of_purchases(book):,.0f}",
        "lever.arrivals.per_year": f"{sum(s.new_customers_per_year for s in arrivals.portfolio.segments):,.0f}",
        "lever.eom.dso.base": fmt_mean("dso", sum(eom[1]) / len(eom[1]), book.economics.currency),
        "lever.eom.dso.mean": fmt_mean("dso", sum(eom[0]) / len(eom[0]), book.economics.currency),
    })
    return vals


def generate(settings: Settings, root: Path = ROOT) -> dict[str, str]:
    """Run every comparison and write values, tables, figures, the manifest and the filled chapters."""
    from collectsim.present import plots
    evidence = root / "playbook" / "evidence"
    evidence.mkdir(parents=True, exist_ok=True)
    values = code_values()
    values.update({"run.reps": str(settings.reps), "run.sens_reps": str(min(settings.reps, settings.sens_reps)),
                   "run.variants": str(len(VARIANTS) - 1)})
    values.update({f"variant.{k}": v[0] for k, v in VARIANTS.items()})
    sens_frames = []
    for arch, label in ARCHETYPES.items():
        path = root / "scenarios" / f"{arch}.toml"
        scenario = load_scenario(path)
        comp = compare(scenario, list(SHORT), reps=settings.reps, workers=settings.workers,
                       progress=settings.progress)
        out = evidence / arch
        out.mkdir(exist_ok=True)
        write_csv(comp.summary(), out / "summary.csv")
        write_csv(comp.differences(), out / "differences.csv")
        write_csv(comp.replication_table(), out / "replications.csv")
        plots.save_comparison_plots(comp, out)
        values.update(comparison_values(arch, comp))
        values[f"{arch}.customers"] = f"{scenario.portfolio.customer_count:,}"
        values[f"{arch}.label"] = label
        frame, sens_vals = sensitivity(arch, path, comp, settings)
        sens_frames.append(frame)
        values.update(sens_vals)
    values.update(run_levers(root, settings, evidence))
    sens = pd.concat(sens_frames, ignore_index=True)
    write_csv(sens, evidence / "sensitivity.csv")
    values["sens.table"] = sensitivity_table(sens)
    (evidence / "values.json").write_text(json.dumps(values, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    hashes = file_hashes(root)
    manifest = {"inputs_hash": inputs_hash(hashes), "files": hashes, "reps": settings.reps,
                "sens_reps": settings.sens_reps, "archetypes": list(ARCHETYPES), "strategies": list(SHORT),
                "variants": {k: v[1] for k, v in VARIANTS.items()},
                "levers": {k: {"policy": v[0], "base": v[1], "keys": v[2], "portfolio": v[3]}
                           for k, v in LEVERS.items()},
                "generated_by": "make playbook"}
    (evidence / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    build_chapters(values, root / "playbook", root / "playbook" / "filled")
    return values


def load_values(evidence: Path = EVIDENCE) -> dict[str, str]:
    path = evidence / "values.json"
    if not path.is_file():
        raise PlaybookError(f"{path}: no evidence yet; run `make playbook`")
    return json.loads(path.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/playbook.py", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=Settings.reps, help="replications per strategy and archetype")
    parser.add_argument("--sens-reps", type=int, default=Settings.sens_reps, help="replications per variant")
    parser.add_argument("--workers", type=int, default=Settings.workers, help="local worker processes")
    parser.add_argument("--fill-only", action="store_true", help="refill the chapters from values.json only")
    args = parser.parse_args(argv)
    try:
        if args.fill_only:
            paths = build_chapters(load_values())
        else:
            generate(Settings(args.reps, args.sens_reps, args.workers))
            paths = sorted(BUILD.glob("*.md"))
        problems = [p for path in chapter_files() for p in typed_numbers(path.read_text(encoding="utf-8"),
                                                                          str(path.relative_to(ROOT)))]
        for p in problems:
            print(f"warning: typed number {p}", file=sys.stderr)
        print(f"filled chapters: {', '.join(str(p.relative_to(ROOT)) for p in paths)}")
    except (PlaybookError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ARCHETYPES", "LEVERS", "PAIRS", "SHORT", "VARIANTS", "Settings", "build_chapters", "fill", "generate",
           "input_files", "inputs_hash", "stale_inputs", "typed_numbers"]
