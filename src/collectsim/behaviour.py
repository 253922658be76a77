"""How customers react: small pure rules that work on NumPy scalars and arrays alike.

These functions are the whole of the behaviour model's arithmetic. The SimPy engine calls them one
event at a time; a vectorised engine can call the very same functions on arrays of customers, so
the two engines share every rule and differ only in how they walk through time. Randomness comes
in as uniforms from :mod:`collectsim.draws`, never from inside a rule.
"""

from __future__ import annotations

import math

import numpy as np

from .draws import Number, lognormal


def recovered_goodwill(goodwill: Number, baseline: Number, days: Number, recovery_days: Number) -> Number:
    """Goodwill ``days`` after it was ``goodwill``, relaxing toward ``baseline`` with time constant ``recovery_days``.

    Relationships mend slowly when nothing new happens: the gap to the baseline shrinks by a factor
    e every ``recovery_days``.
    """
    if isinstance(goodwill, float) and isinstance(days, int):  # the engine's per-event path, without NumPy
        return baseline + (goodwill - baseline) * math.exp(-days / recovery_days)
    out = np.asarray(baseline) + (np.asarray(goodwill) - np.asarray(baseline)) * np.exp(
        -np.asarray(days, dtype=np.float64) / recovery_days)
    return float(out) if np.ndim(out) == 0 else out


def order_rate_factor(goodwill: Number, baseline: Number, elasticity: Number) -> Number:
    """Multiplier of a customer's ordering rate: 1 at its baseline goodwill, ``1 + e x (g - b)`` around it."""
    if type(goodwill) is float and type(baseline) is float and type(elasticity) is float:  # per-event path
        out = 1.0 + elasticity * (goodwill - baseline)
        return out if out > 0.0 else 0.0
    out = np.maximum(0.0, 1.0 + np.asarray(elasticity) * (np.asarray(goodwill) - np.asarray(baseline)))
    return float(out) if np.ndim(out) == 0 else out


def _k_factorials(n: int) -> tuple[float, ...]:
    """k x k! for k = 1..n, as floats computed exactly as the array path does (fact *= k, then k * fact)."""
    out, fact = [], 1.0
    for k in range(1, n + 1):
        fact *= k
        out.append(k * fact)
    return tuple(out)


_K_FACT = _k_factorials(200)


def churn_hazard_integral(daily_hazard: Number, slope: Number, gap: Number, days: Number,
                          recovery_days: Number, terms: int = 40) -> Number:
    """Integrated churn hazard over ``days`` while goodwill recovers from ``gap`` below baseline.

    The hazard is ``h0 exp(slope x (baseline - g(t)))`` with ``baseline - g(t) = gap exp(-t / tau)``.
    Its integral is ``h0 (X + tau sum_k (D^k - (D e^(-X/tau))^k) / (k k!))`` with ``D = slope x gap``
    (the exponential-integral series), exact for every gap of either sign.
    """
    if isinstance(gap, float) and isinstance(days, int):  # the engine's per-event path, without NumPy
        d = slope * gap
        if d == 0.0:
            return daily_hazard * days  # goodwill at baseline: a constant hazard
        w = d * math.exp(-days / recovery_days)
        series, d_pow, w_pow = 0.0, 1.0, 1.0
        for k_fact in (_K_FACT[:terms] if terms <= len(_K_FACT) else _k_factorials(terms)):
            d_pow *= d
            w_pow *= w
            term = (d_pow - w_pow) / k_fact
            series += term
            tol = 1e-17 * (series if series >= 0.0 else -series)
            if -tol < term < tol:  # |term| < tol without two abs() calls
                break  # later terms are smaller still and cannot change the sum
        return daily_hazard * (days + recovery_days * series)
    h0 = np.asarray(daily_hazard, dtype=np.float64)
    x = np.asarray(days, dtype=np.float64)
    d = np.asarray(slope, dtype=np.float64) * np.asarray(gap, dtype=np.float64)
    w = d * np.exp(-x / recovery_days)
    series = np.zeros(np.broadcast(d, w).shape)
    d_pow, w_pow, fact = np.ones_like(series), np.ones_like(series), 1.0
    for k in range(1, terms + 1):
        d_pow = d_pow * d
        w_pow = w_pow * w
        fact *= k
        series = series + (d_pow - w_pow) / (k * fact)
    out = h0 * (x + recovery_days * series)
    return float(out) if np.ndim(out) == 0 else out


def clip01(x: Number) -> Number:
    """Clamp to the goodwill scale [0, 1]."""
    if type(x) is float:  # the engine's per-event path
        return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x
    out = np.clip(x, 0.0, 1.0)
    return float(out) if np.ndim(out) == 0 else out


def goodwill_after(goodwill: Number, change: Number, sensitivity: Number) -> Number:
    """Goodwill after an action whose effect is ``change`` points, scaled by the segment's sensitivity."""
    return clip01(goodwill + change * sensitivity)


def response_probability(base: Number, tone_multiplier: Number, responsiveness: Number,
                         goodwill: Number, goodwill_weight: Number, cap: Number) -> Number:
    """Chance that one reminder prompts a payment soon.

    base (by channel) x tone multiplier x segment responsiveness x goodwill factor, where the
    goodwill factor is ``1 - w + 2 w goodwill``: 1 at goodwill 0.5, higher for customers who like
    dealing with us. Capped at ``cap``.
    """
    factor = 1.0 - goodwill_weight + 2.0 * goodwill_weight * goodwill
    if type(factor) is float and type(base) is float and type(cap) is float:  # the engine's per-event path
        p = base * tone_multiplier * responsiveness * factor
        return float(p if p <= cap else cap)
    out = np.minimum(base * tone_multiplier * responsiveness * factor, cap)
    return float(out) if np.ndim(out) == 0 else out


def age_factor(days_past_due: Number, halflife_days: Number) -> Number:
    """Multiplier of a reminder's response chance for debt ``days_past_due`` old: halves every ``halflife_days``.

    Debt gets harder to collect as it ages (the collectability-by-age curve collection surveys quote);
    1 up to the due date, and always 1 when ``halflife_days`` is 0 (no fading).
    """
    if isinstance(days_past_due, int) and isinstance(halflife_days, float):  # the engine's per-event path
        return 0.5 ** (days_past_due / halflife_days) if halflife_days > 0 and days_past_due > 0 else 1.0
    age = np.maximum(np.asarray(days_past_due, dtype=np.float64), 0.0)
    h = np.asarray(halflife_days, dtype=np.float64)
    out = np.where(h > 0, np.power(0.5, age / np.where(h > 0, h, 1.0)), 1.0)
    return float(out) if np.ndim(out) == 0 else out


def set_aside_days(p: Number, never_share: Number, median_days: Number, sigma: Number) -> Number:
    """Days past due (>= 0) at which a set-aside invoice is paid unchased, or -1 for never.

    One uniform decides both: below ``never_share`` the customer never pays of its own accord; above
    it, the rescaled uniform gives a log-normal delay. The same invoice is thus as slow under every policy.
    """
    p = np.asarray(p, dtype=np.float64)
    never = np.asarray(never_share, dtype=np.float64)
    rescaled = np.clip((p - never) / np.maximum(1.0 - never, 1e-300), 2.0**-53, 1.0 - 2.0**-53)
    days = np.minimum(lognormal(rescaled, median_days, sigma), 1e6).astype(np.int64)
    out = np.where(p < never, -1, days)
    return int(out) if np.ndim(out) == 0 else out


def unmoved_after(unmoved: Number, probability: Number) -> Number:
    """Chance that none of the reminders so far moved the customer, after one more with ``probability``."""
    if type(unmoved) is float and type(probability) is float:  # the engine's per-event path
        return unmoved * (1.0 - probability)
    out = np.asarray(unmoved, dtype=np.float64) * (1.0 - np.asarray(probability, dtype=np.float64))
    return float(out) if np.ndim(out) == 0 else out


def responds(threshold: Number, unmoved: Number) -> Number:
    """Has the customer been moved to pay? True once the invoice's uniform ``threshold`` exceeds ``unmoved``.

    Each reminder k moves a customer with probability p_k independently of the others, so the chance
    of no response through reminder k is the product of (1 - p_j). Drawing one uniform per invoice and
    responding at the first reminder where it exceeds that product gives exactly that distribution,
    and couples the invoice across policies: an invoice quick to respond under one ladder is quick
    under another. Once moved, later reminders find it moved too (they cannot delay the payment).
    """
    if type(threshold) is float and type(unmoved) is float:  # the engine's per-event path
        return threshold > unmoved
    out = np.asarray(threshold) > np.asarray(unmoved)
    return bool(out) if np.ndim(out) == 0 else out


def discount_take_probability(appetite: Number, rate: Number, reference_rate: Number) -> Number:
    """Chance that a customer takes an early-payment discount of ``rate``.

    Linear in the rate up to the reference rate, where it equals the segment's appetite; a larger
    discount does not tempt more (assumption: customers who can pay early already do at the reference).
    """
    if type(rate) is float and type(appetite) is float and type(reference_rate) is float:  # per-event path
        ratio = rate / reference_rate
        return appetite * (ratio if ratio <= 1.0 else 1.0)
    out = appetite * np.minimum(np.asarray(rate, dtype=np.float64) / reference_rate, 1.0)
    return float(out) if np.ndim(out) == 0 else out


def unchased_pay_day(due_day: Number, issue_day: Number, lateness_days: Number) -> Number:
    """Day an invoice is paid if nobody chases it: due date plus lateness, never before issue."""
    if type(lateness_days) is float and type(due_day) is int and type(issue_day) is int:  # per-event path
        day = due_day + round(lateness_days)  # round() is round-half-even, as np.rint
        return day if day > issue_day else issue_day
    out = np.maximum(np.asarray(issue_day), np.asarray(due_day) + np.rint(lateness_days).astype(np.int64))
    return int(out) if np.ndim(out) == 0 else out


def prompted_pay_day(now: Number, due_day: Number, delay_days: Number) -> Number:
    """Day a customer pays after a reminder works.

    Before the due date a reminder makes the customer pay on time (at the due date); after it, the
    payment arrives ``delay_days`` later, at the earliest the next day (same-day order stays fixed).
    """
    if type(now) is int and type(due_day) is int and type(delay_days) is float:  # the engine's per-event path
        return due_day if now < due_day else now + 1 + math.floor(delay_days)
    after_due = np.asarray(now) + 1 + np.floor(delay_days).astype(np.int64)
    out = np.where(np.asarray(now) < np.asarray(due_day), due_day, after_due)
    return int(out) if np.ndim(out) == 0 else out


def part_payment_fraction(p: Number, mean: Number) -> Number:
    """Share of the balance paid in a part payment: uniform on mean +/- 0.2 (within 0.05-0.95)."""
    if type(p) is float and type(mean) is float:  # the engine's per-event path
        low, high = min(max(mean - 0.2, 0.05), 0.95), min(max(mean + 0.2, 0.05), 0.95)
        return low + (high - low) * p
    low = np.clip(np.asarray(mean, dtype=np.float64) - 0.2, 0.05, 0.95)
    high = np.clip(np.asarray(mean, dtype=np.float64) + 0.2, 0.05, 0.95)
    out = low + (high - low) * np.asarray(p, dtype=np.float64)
    return float(out) if np.ndim(out) == 0 else out


def credit_note_fraction(p: Number, mean: Number) -> Number:
    """Share of the balance a credit note covers: uniform on 0 to twice the mean, capped at 1."""
    if type(p) is float and type(mean) is float:  # the engine's per-event path
        share = 2.0 * mean * p
        return share if share < 1.0 else 1.0
    out = np.minimum(1.0, 2.0 * np.asarray(mean, dtype=np.float64) * np.asarray(p, dtype=np.float64))
    return float(out) if np.ndim(out) == 0 else out


def cents_of(amount: Number) -> Number:
    """Currency amount to whole cents (round half to even), at least one cent."""
    if type(amount) is float:  # the engine's per-event path; round() is round-half-even, as np.rint
        cents = round(amount * 100.0)
        return cents if cents > 1 else 1
    out = np.maximum(np.rint(np.asarray(amount, dtype=np.float64) * 100.0), 1).astype(np.int64)
    return int(out) if np.ndim(out) == 0 else out


def share_of(balance_cents: Number, fraction: Number) -> Number:
    """A part of a balance in cents, at least one cent and at most the balance."""
    if type(balance_cents) is int and type(fraction) is float:  # the engine's per-event path
        part = round(float(balance_cents) * fraction)
        return min(max(part, 1), balance_cents)
    part = np.rint(np.asarray(balance_cents) * np.asarray(fraction, dtype=np.float64)).astype(np.int64)
    out = np.clip(part, 1, balance_cents)
    return int(out) if np.ndim(out) == 0 else out
