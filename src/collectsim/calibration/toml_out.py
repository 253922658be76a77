"""Writing a calibrated scenario as a commented TOML file a person can read and edit.

The file says, beside each fitted key, what it was fitted from and its 95% interval, so a finance
manager can see which numbers rest on many invoices and which on a handful.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from collectsim.calibration.calibrate import MIN_GROUP_CUSTOMERS, MIN_GROUP_INVOICES, MIN_TERMS_SHARE
from collectsim.files.toml_write import toml_key as _key
from collectsim.files.toml_write import toml_string, toml_value

_ASSUMED = "an ASSUMED practice: pass --as-is POLICY.toml with the real one"
_NOTES = {
    "orders_per_year": "invoices per customer-year in the ledger, corrected for churn and goodwill in the model",
    "amount_median": "median invoice amount (log-normal fit)",
    "amount_sigma": "sd of log(amount)",
    "terms_days": "median days from issue to due date",
    "days_late_mean": "habit before chasing: median days past due, corrected for the as-is reminders",
    "days_late_sd_between": "spread of customers' habits (variance split from customers with 2+ invoices)",
    "days_late_sd_within": "spread of one customer's invoices",
    "ignore_share": "share paid far beyond the bulk (Kaplan-Meier, open invoices censored), before chasing",
    "dispute_rate": "share of invoices marked disputed",
    "dispute_resolution_days": "fitted so disputed invoices pay as late as in the ledger",
    "dispute_min_days": "shortest dispute, fitted to the disputed invoices' lower quartile of days past due (later "
                        "than a plain exponential wait gives)",
    "on_due_date_share": "share paid exactly on the due date, beyond what the lateness of the rest puts there",
    "payment_weekdays": "weekdays of payments not on the due date, Monday first (they differ from an even spread)",
    "terms_mix": f"terms (days from issue to due date) and their shares; terms under {MIN_TERMS_SHARE:.0%} of invoices "
                 "counted with the nearest",
}


def _dotted(prefix: str, table: dict[str, Any]) -> list[str]:
    lines = []
    for k, v in table.items():
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, dict) and v:
            lines.extend(_dotted(name, v))
        elif isinstance(v, dict):
            continue
        else:
            lines.append(f"{name} = {toml_value(v)}")
    return lines


def scenario_toml(cal: Any, ledger_name: str | None = None) -> str:
    """The calibrated scenario of a fitted :class:`~collectsim.calibration.calibrate.Calibrator`, with comments."""
    raw = cal.raw_scenario()
    led = cal.ledger_
    name = ledger_name or Path(led.source).name
    total = sum(f.invoices for f in cal.groups_)
    settled = sum(f.settled for f in cal.groups_)
    out = [
        f"# Calibrated by `collectsim calibrate` from {toml_string(name)[1:-1]}",
        f"# {total} invoices ({settled} settled, {total - settled} open at {led.as_of}, kept as censored),",
        f"# {sum(f.customers for f in cal.groups_)} customers, issued {cal.first_issue_} over {cal.span_days_} days;"
        f" {len(led.rejects)} rows rejected" + (f", {len(led.skipped)} in other currencies skipped" if len(led.skipped)
                                                else "") + ".",
        "# Payment habits are the behaviour BEFORE chasing: the as-is policy below is the current practice",
        f"# ({_ASSUMED if cal.as_is_assumed else 'given with --as-is'}),"
        f" and {cal.iterations} rounds of simulation moved the habits so that, chased by it, the",
        "# simulated ledger matches the history (see collectsim.calibration.calibrate). Intervals are 95%,",
        "# bootstrap over customers. Keys not written take the documented defaults (docs/scenario-keys.md).",
        "",
        f"name = {toml_value(raw['name'])}",
        f"description = {toml_value(raw['description'])}",
        f"seed = {raw['seed']}",
        "",
        *(["[economics]", f"currency = {toml_value(raw['economics']['currency'])}  # from the ledger", ""]
          if "economics" in raw else []),
        "[horizon]",
        *_dotted("", raw["horizon"]),
        "",
    ]
    for seg, fit in zip(raw["portfolio"]["segments"], cal.groups_):
        out.append("[[portfolio.segments]]")
        out.append(f"# fitted from {fit.invoices} invoices ({fit.settled} settled, {fit.disputed_invoices} disputed)"
                   f" of {fit.customers} customers")
        if fit.merged:
            merged = ", ".join(toml_string(name)[1:-1] for name in fit.merged)  # escaped: a name may hold anything
            out.append(f"# with the ledger's {merged}: fewer than {MIN_GROUP_CUSTOMERS} customers or "
                       f"{MIN_GROUP_INVOICES} invoices, merged into the group that pays most alike")
        if fit.invoices < MIN_GROUP_INVOICES or fit.customers < MIN_GROUP_CUSTOMERS:
            out.append("# few invoices or customers: rough values with wide intervals; check them by hand")
        out.append(f"name = {toml_value(seg['name'])}")
        out.append(f"customers = {seg['customers']}")
        for key, value in seg.items():
            if key in ("name", "customers"):
                continue
            lo, hi = fit.intervals.get(key, (float("nan"), float("nan")))
            ci = f"; 95% CI {lo:.3g} to {hi:.3g}" if math.isfinite(lo) and math.isfinite(hi) else ""
            note = _NOTES.get(key, "")
            if key == "dispute_rate" and not cal.has_disputes_:
                note = "the ledger has no dispute column: disputes are part of the lateness above"
            out.append(f"{key} = {toml_value(value)}  # {note}{ci}")
        out.append("")
    out.append("[policies.as-is]")
    out.extend(_dotted("", raw["policies"]["as-is"]))
    out.append("")
    return "\n".join(out)
