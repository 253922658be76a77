"""What each metric is called, in what unit it is kept and how it is shown: defined once, beside the record.

The command line's table, the verdict sentences, the comparison tables, the narrative, the dashboard, the
plots and the report all take a metric's label, words, kind and format from :data:`METRIC_INFO`, so a
metric is named and rounded the same way wherever a user meets it.

Kinds: ``money`` (integer cents), ``value`` (currency amounts in cents kept as floats, such as NPV),
``days``, ``share`` (0-1, shown as a percentage), ``percent`` (already in %), ``score`` (goodwill 0-1),
``count``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import pandas as pd

from collectsim.config.schema import one_line
from collectsim.results.metrics import NET_VALUE_COMPONENTS, Metrics

#: The unit each kind is stored in.
UNITS = {"money": "cents", "value": "cents", "days": "days", "share": "share (0-1)", "percent": "%",
         "score": "score (0-1)", "count": "count"}


@dataclass(frozen=True)
class MetricInfo:
    """One metric: its table label, the words a verdict uses, its kind and the digits it is shown with."""

    name: str
    label: str
    words: str
    kind: str
    digits: int = 1
    suffix: str = ""  # said after the unit in tables ("% of cash")
    better: str = ""  # "higher" or "lower" when a finance manager prefers one; "" for plain counts

    @property
    def unit(self) -> str:
        return UNITS[self.kind]

    def in_display_units(self, value: float) -> float:
        """The value in the unit people read: money in currency units (not cents), shares in percent."""
        if self.kind in ("money", "value"):
            return value / 100
        return 100 * value if self.kind == "share" else value

    def display_unit(self, currency: str) -> str:
        """The unit :meth:`in_display_units` gives ('EUR', 'days', '%'); '' for scores and counts."""
        if self.kind in ("money", "value"):
            return one_line(currency)
        return {"days": "days", "share": "%", "percent": "%"}.get(self.kind, "")

    def format(self, value: float, currency: str) -> str:
        """The value as the command line's table shows it ('1,234.56 EUR', '42.1 days', '3.25 %')."""
        if self.kind in ("money", "value"):
            return f"{round(value) / 100:,.2f} {one_line(currency)}"
        if self.kind == "days":
            return f"{value:.{self.digits}f} days"
        if self.kind == "share":
            return f"{100 * value:.{self.digits}f} %{self.suffix}"
        if self.kind == "percent":
            return f"{value:.{self.digits}f} %"
        return f"{value:.{self.digits}f}"


#: The direction a finance manager prefers, for the metrics that have one.
_BETTER = {
    # Net value's parts: costs are held negative, so for every part higher is better.
    "higher": ("cash_collected", "cei", "npv", "net_value", "mean_goodwill", "recovery_rate",
               *(f"nv_{part}" for part in NET_VALUE_COMPONENTS)),
    "lower": ("dso", "dso_simple", "best_possible_dso", "add", "bad_debt_ratio", "cost_to_collect", "written_off",
              "outstanding", "collection_costs", "staff_cost", "churned_customers", "margin_lost_to_churn",
              "mean_wait_days", "mean_days_late", "share_paid_late", "disputes", "insolvencies", "plans_defaulted"),
}


def _info(name: str, label: str, words: str, kind: str, digits: int = 1, suffix: str = "") -> MetricInfo:
    better = next((way for way, names in _BETTER.items() if name in names), "")
    return MetricInfo(name, label, words, kind, digits, suffix, better)


#: Every metric of :class:`~collectsim.results.metrics.Metrics`, in the record's order.
METRIC_INFO: dict[str, MetricInfo] = {m.name: m for m in (
    _info("dso", "DSO (count-back)", "DSO", "days"),
    _info("dso_simple", "DSO (simple)", "simple DSO", "days"),
    _info("best_possible_dso", "Best possible DSO", "best possible DSO", "days"),
    _info("add", "Average days delinquent", "average days delinquent", "days"),
    _info("cei", "CEI", "CEI", "percent"),
    _info("bad_debt_ratio", "Bad-debt ratio", "bad-debt ratio", "share", 2),
    _info("cost_to_collect", "Cost to collect", "cost to collect", "share", 2, " of cash"),
    _info("cash_collected", "Cash collected", "cash", "money"),
    _info("fees_collected", "Fees collected", "fees", "money"),
    _info("fees_waived", "Fees waived", "fees waived", "money"),
    _info("invoiced", "Invoiced (cohort)", "invoicing", "money"),
    _info("discounts_granted", "Discounts granted", "discounts granted", "money"),
    _info("credit_notes", "Credit notes", "credit notes", "money"),
    _info("settlements_forgiven", "Settlements forgiven", "settlements forgiven", "money"),
    _info("written_off", "Written off", "write-offs", "money"),
    _info("outstanding", "Outstanding at end", "outstanding balance", "money"),
    _info("collection_costs", "Collection costs", "collection cost", "money"),
    _info("staff_cost", "Staff cost", "staff cost", "money"),
    _info("npv", "NPV of cash", "NPV of cash", "value"),
    _info("net_value", "Net value", "net value", "value"),
    _info("nv_cash_collected", "Net value: cash collected", "contribution of cash collected to net value", "value"),
    _info("nv_fees", "Net value: fees", "contribution of fees to net value", "value"),
    _info("nv_cost_of_goods", "Net value: cost of goods", "contribution of cost of goods to net value", "value"),
    _info("nv_collection_costs", "Net value: collection costs", "contribution of collection costs to net value",
          "value"),
    _info("nv_staff_cost", "Net value: staff cost", "contribution of staff cost to net value", "value"),
    _info("nv_acquisition_costs", "Net value: acquisition costs", "contribution of acquisition costs to net value",
          "value"),
    _info("nv_future_margin_lost", "Net value: future margin lost",
          "contribution of future margin lost to churn to net value", "value"),
    _info("mean_goodwill", "Mean goodwill", "mean goodwill", "score", 3),
    _info("churned_customers", "Churned customers", "churned customers", "count", 0),
    _info("margin_lost_to_churn", "Margin lost to churn", "margin lost to churn", "money"),
    _info("recovery_rate", "Recovery rate", "recovery rate", "share"),
    _info("staff_utilisation", "Staff utilisation", "staff utilisation", "share"),
    _info("mean_wait_days", "Mean wait", "mean wait", "days"),
    _info("mean_days_late", "Mean days late (paid)", "mean days late", "days"),
    _info("share_paid_late", "Share paid late", "share paid late", "share"),
    _info("reminders_sent", "Reminders sent", "reminders sent", "count", 0),
    _info("reminders_per_customer", "Reminders per customer", "reminders per customer", "count"),
    _info("disputes", "Disputes", "disputes", "count", 0),
    _info("escalated_invoices", "Escalated invoices", "escalated invoices", "count", 0),
    _info("insolvencies", "Insolvencies", "insolvencies", "count", 0),
    _info("plans_agreed", "Plans agreed", "plans agreed", "count", 0),
    _info("terms_agreed", "Extended terms agreed", "extended terms agreed", "count", 0),
    _info("plans_defaulted", "Plans defaulted", "plans defaulted", "count", 0),
    _info("sales_refused", "Orders refused", "orders refused (credit hold or limit)", "money"),
    _info("customers_at_start", "Customers at start", "customers at the start of the period", "count", 0),
    _info("new_customers", "New customers", "new customers", "count", 0),
    _info("customers_refused", "Applicants refused", "applicants refused", "count", 0),
    _info("invoices", "Invoices", "invoices", "count", 0),
    _info("customers", "Customers", "customers", "count", 0),
)}

#: Every metric's name, in the record's order.
METRIC_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Metrics))

#: The metrics a finance manager reads first, in this order (dashboard table, narrative verdicts).
HEADLINE: tuple[str, ...] = ("cash_collected", "dso", "bad_debt_ratio", "cost_to_collect", "mean_goodwill",
                             "churned_customers", "net_value")

#: Net value's parts (the Metrics fields ``nv_<part>``), in the order they add up to it.
NET_VALUE_PARTS: tuple[str, ...] = tuple(f"nv_{part}" for part in NET_VALUE_COMPONENTS)

#: The rows of the command line's table of a run, in order.
RUN_TABLE: tuple[str, ...] = ("invoiced", "cash_collected", "fees_collected", "discounts_granted",
                              "settlements_forgiven", "credit_notes", "written_off", "outstanding", "dso",
                              "dso_simple", "best_possible_dso", "add", "cei", "bad_debt_ratio", "cost_to_collect",
                              "npv", "net_value", "mean_days_late", "share_paid_late", "reminders_per_customer",
                              "mean_goodwill")


def info(metric: str) -> MetricInfo:
    """The metric's description; a name outside the record (a derived column) is said as its words."""
    known = METRIC_INFO.get(metric)
    if known is not None:
        return known
    words = metric.replace("_", " ")
    return MetricInfo(metric, words.capitalize(), words, "count")


def metric_rows(metrics: Metrics, currency: str, names: tuple[str, ...] = RUN_TABLE) -> list[tuple[str, str]]:
    """(label, formatted value) of a run's metrics, as the command line shows them."""
    return [(METRIC_INFO[m].label, METRIC_INFO[m].format(getattr(metrics, m), currency)) for m in names]


def unit_name(metric: str, currency: str) -> str:
    """The unit a table for people gives ``metric`` in: the currency, 'days', '%', or 'score' / 'count'."""
    what = info(metric)
    return what.display_unit(currency) or ("score" if what.kind == "score" else "count")


def long_table_for_people(frame: pd.DataFrame, currency: str, values: Sequence[str] = ("mean", "lo", "hi"),
                          differences: bool = False) -> pd.DataFrame:
    """A long table (one row per metric, its name in ``metric``) with a ``unit`` column after ``metric`` and
    ``values`` in that unit: money in currency units instead of cents, shares in percent (in percentage
    points when the values are ``differences`` of shares)."""
    out = frame.copy()
    metrics = out["metric"].tolist()
    for column in values:
        out[column] = [info(m).in_display_units(v) for m, v in zip(metrics, out[column].tolist())]
    units = [unit_name(m, currency) for m in metrics]
    if differences:
        units = ["percentage points" if info(m).kind == "share" else u for m, u in zip(metrics, units)]
    out.insert(out.columns.get_loc("metric") + 1, "unit", units)
    return out


def wide_table_for_people(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """A wide table (one column per metric) with money in currency units and shares in percent, the unit in
    each such column's name (``cash_collected_EUR``, ``bad_debt_ratio_pct``); other columns as they are."""
    out = frame.copy()
    renames = {}
    for column in out.columns:
        what = METRIC_INFO.get(column)
        if what is None or what.kind not in ("money", "value", "share"):
            continue
        out[column] = [what.in_display_units(v) for v in out[column].tolist()]
        renames[column] = f"{column}_{one_line(currency) if what.kind != 'share' else 'pct'}"
    return out.rename(columns=renames)


def money_columns_for_people(frame: pd.DataFrame, columns: Sequence[str], currency: str) -> pd.DataFrame:
    """``frame`` with its integer-cent ``columns`` in currency units, each renamed ``<column>_<currency>``."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].to_numpy() / 100
    return out.rename(columns={c: f"{c}_{one_line(currency)}" for c in columns})
