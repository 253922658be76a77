"""The business calendar: end-of-month terms and customers' payment-run days.

Simulation days count from the scenario's start date. Two habits of business customers hang on the
calendar rather than on a count of days: terms such as "30 days end of month" run from the last day of
the month the invoice was issued in, and many accounts-payable teams release payments only in a weekly,
fortnightly or monthly payment run, so an invoice they mean to pay on a Tuesday leaves on their next run day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

PAYMENT_RUNS = ("any", "weekly", "fortnightly", "monthly")


def due_day(issue_day: int, terms_days: int, end_of_month: bool, start_date: dt.date) -> int:
    """Simulation day an invoice falls due: issue + terms, or end of the issue month + terms."""
    if not end_of_month:
        return issue_day + terms_days
    issued = start_date + dt.timedelta(days=issue_day)
    first_of_next = (issued.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    month_end = (first_of_next - dt.timedelta(days=1) - start_date).days
    return month_end + terms_days


def is_run_day(day: int, run: str, run_day: int, start_date: dt.date) -> bool:
    """Whether the customer's payment run happens on simulation ``day``.

    ``run_day`` is the weekday (1 = Monday .. 7 = Sunday) of a weekly or fortnightly run, or the day
    of the month (1-28) of a monthly run. Fortnightly runs fall on the weeks counted even from the start date.
    """
    if run == "any":
        return True
    date = start_date + dt.timedelta(days=day)
    if run == "monthly":
        return date.day == run_day
    if date.isoweekday() != run_day:
        return False
    return run == "weekly" or (day // 7) % 2 == 0


def next_run_days(total_days: int, run: str, run_day: int, start_date: dt.date) -> np.ndarray | None:
    """For each day 0..total_days-1, the first payment-run day on or after it (None when every day is one).

    Days after the last run inside the horizon map to ``total_days`` (beyond the run's end).
    """
    if run == "any":
        return None
    out = np.full(total_days + 1, total_days, dtype=np.int64)
    following = total_days
    for day in range(total_days - 1, -1, -1):
        if is_run_day(day, run, run_day, start_date):
            following = day
        out[day] = following
    return out
