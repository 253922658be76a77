"""What the law lets a supplier add to a late business invoice: statutory interest and fixed compensation.

Between businesses, a late payer owes more than the invoice. In the EU, Directive 2011/7/EU sets interest
at the central bank's reference rate plus at least eight percentage points, and a fixed sum of at least
EUR 40 for each late invoice as compensation for the cost of recovering it. In the UK, the Late Payment of
Commercial Debts (Interest) Act 1998 sets interest at the Bank of England base rate plus 8%, and a fixed sum
that grows with the debt: GBP 40 below GBP 1,000, GBP 70 from GBP 1,000 to GBP 9,999.99, GBP 100 from
GBP 10,000. (docs/sources.md gives the sources.)

The letters use the statutory minimum (eight points over the reference rate), and simple interest on the
open amount, day by day: ``open x annual rate x days late / 365``, days late counted from the day after the
due date to the letter's date, rounded to the cent (half up). Two simplifications a lawyer would point out:
the reference rate is the one given (the law fixes it per half-year), and a part payment made during the
period is not apportioned (the open amount today is charged for every day late). Neither law is applied to
consumer debts; a contract may set another rate, which this module does not model.

Functions take and return whole cents; they are plain functions of scalars, like the behaviour rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: Percentage points over the reference rate, both laws (the EU's "at least": its minimum).
STATUTORY_MARGIN = 0.08


@dataclass(frozen=True)
class LatePaymentLaw:
    """One jurisdiction's late-payment rules, as the letters cite them."""

    key: str
    title: str  # how a letter names the law
    reference: str  # how a letter names the reference rate
    currency: str  # the currency its fixed sums are set in


LAWS = {
    "eu": LatePaymentLaw("eu", "Directive 2011/7/EU on combating late payment in commercial transactions",
                         "the central bank's reference rate", "EUR"),
    "uk": LatePaymentLaw("uk", "the Late Payment of Commercial Debts (Interest) Act 1998",
                         "the Bank of England base rate", "GBP"),
}

#: UK fixed sums: (debt from, in pence; sum in pence), highest band first.
UK_BANDS = ((1_000_000, 10_000), (100_000, 7_000), (0, 4_000))
#: EU fixed sum per late invoice, in cents.
EU_FIXED_CENTS = 4_000


def law(jurisdiction: str) -> LatePaymentLaw:
    """The rules of ``jurisdiction`` ('eu' or 'uk')."""
    try:
        return LAWS[jurisdiction]
    except KeyError:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r}; one of {', '.join(LAWS)}") from None


def statutory_rate(reference_rate: float) -> float:
    """Yearly statutory interest rate: the reference rate plus eight points (EU minimum; UK exactly)."""
    return reference_rate + STATUTORY_MARGIN


def fixed_compensation_cents(jurisdiction: str, debt_cents: int) -> int:
    """Fixed compensation for one late invoice whose unpaid debt is ``debt_cents`` (in the law's currency)."""
    if law(jurisdiction).key == "eu":
        return EU_FIXED_CENTS
    return next(fixed for floor, fixed in UK_BANDS if debt_cents >= floor)


def interest_cents(open_cents: int, annual_rate: float, days_late: int) -> int:
    """Simple interest on ``open_cents`` for ``days_late`` days at ``annual_rate`` a year (365-day year),
    rounded to the cent, half up; nothing before the due date or at a rate of zero or less."""
    if days_late <= 0 or open_cents <= 0 or annual_rate <= 0:
        return 0
    exact = Decimal(int(open_cents)) * Decimal(repr(float(annual_rate))) * int(days_late) / Decimal(365)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
