"""Order-independent random numbers: a uniform as a pure function of its key.

Think of a ledger where every possible dice roll already has a numbered line: the roll for
"customer 12, invoice 7, reminder 3, will they respond?" is written on its own line, whoever
reads it and whenever. ``u(seed, purpose, customer, invoice, step)`` reads that line. Because a
draw depends on nothing but its key, a policy that sends more reminders does not shift the
draws of any other invoice, two engines walking through time differently get the same numbers,
and a day's draws for many customers can be computed in one NumPy call.

The mixer is splitmix64's finaliser applied after each key field (a Philox-like counter scheme
in miniature). The scalar path uses Python integers and the array path uses ``uint64`` arrays;
both produce the same 64-bit words, and the conversion to a float in (0, 1) is exact, so the two
paths agree bit for bit.

Variates are made from uniforms by inverse CDF (not ``numpy.random.Generator`` methods, whose
streams may change between NumPy versions). They use NumPy ufuncs, so a scalar and an array of
the same uniforms give the same variates.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import TypeVar

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TWO_POW_MINUS_53 = 2.0**-53

Number = TypeVar("Number", float, np.ndarray)


class Purpose(IntEnum):
    """What a draw is for; each purpose is its own stream. Append new members, never renumber."""

    CUSTOMER_HABIT = 1
    CUSTOMER_RESPONSIVENESS = 2
    ORDER_GAP = 3
    INVOICE_AMOUNT = 4
    PAYMENT_LATENESS = 5
    IGNORES_INVOICE = 6
    DISPUTE = 7
    DISPUTE_DAY = 8
    DISPUTE_RESOLUTION_DAYS = 9
    CREDIT_NOTE = 10
    CREDIT_NOTE_FRACTION = 11
    DISCOUNT_TAKE_UP = 12
    DISCOUNT_PAY_DAY = 13
    RESPONSE = 14
    RESPONSE_DELAY = 15
    PARTIAL_PAYMENT = 16
    PARTIAL_FRACTION = 17
    PARTIAL_GAP = 18
    RESOLUTION_PAY_DELAY = 19
    PLAN_ACCEPTANCE = 20
    INSTALMENT = 21
    CHURN = 22
    FEE_PAYMENT = 23
    SETTLEMENT_ACCEPTANCE = 24
    SETTLEMENT_DELAY = 25
    MEDIATION = 26
    MEDIATION_DAYS = 27
    AGENCY = 28
    AGENCY_DAYS = 29
    JUDGMENT = 30
    JUDGMENT_PAID = 31
    LEGAL_DAYS = 32
    LIQUIDITY = 33
    INSOLVENCY = 34
    INSOLVENCY_DAY = 35
    SET_ASIDE_PAY_DAY = 36
    PLAN_REQUEST = 37
    ARRIVAL = 38
    CREDIT_REPORT = 39
    PLAN_DEFAULT_PAY_DAY = 40


def _mix_int(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mix_array(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def _word_int(seed: int, purpose: int, customer: int, invoice: int, step: int) -> int:
    h = _mix_int((seed + _GOLDEN) & _MASK)
    for field in (purpose, customer, invoice, step):
        h = _mix_int((h + (field & _MASK) + _GOLDEN) & _MASK)
    return h


def _word_array(seed, purpose, customer, invoice, step) -> np.ndarray:
    # Work on arrays of at least one dimension: uint64 array arithmetic wraps silently, as the
    # mixer needs, while NumPy scalar arithmetic would warn about overflow.
    fields = np.broadcast_arrays(
        *(np.asarray(f, dtype=np.int64).astype(np.uint64) for f in (seed, purpose, customer, invoice, step))
    )
    shape = fields[0].shape
    golden = np.uint64(_GOLDEN)
    h = _mix_array(np.atleast_1d(fields[0]) + golden)
    for field in fields[1:]:
        h = _mix_array(h + np.atleast_1d(field) + golden)
    return h.reshape(shape)


_PREFIXES: dict[int, list[int]] = {}  # seed -> the mixer state after (seed, purpose), for small purposes
_PREFIX_PURPOSES = 64
_PREFIX_SEEDS = 1024  # bound the cache; a long sweep visits many seeds


def _prefixes(seed: int) -> list[int]:
    """The mixer's state after the seed and each purpose below 64 (cached: it is shared by every draw)."""
    table = _PREFIXES.get(seed)
    if table is None:
        if len(_PREFIXES) >= _PREFIX_SEEDS:
            _PREFIXES.clear()
        h = _mix_int((seed + _GOLDEN) & _MASK)
        table = _PREFIXES[seed] = [_mix_int((h + purpose + _GOLDEN) & _MASK) for purpose in range(_PREFIX_PURPOSES)]
    return table


def u(seed, purpose, customer, invoice=0, step=0):
    """Uniform in the open interval (0, 1), a pure function of its integer key.

    With all arguments plain ``int`` it returns a Python ``float``; if any argument is a NumPy
    array the arguments broadcast and it returns a float64 array. Keys must be non-negative
    and below 2**63. Both paths give bit-identical values for the same key.
    """
    if (type(customer) is int and type(invoice) is int and type(step) is int and type(seed) is int
            and isinstance(purpose, int)):
        # The engine's per-event path: _word_int unrolled, with the (seed, purpose) state cached.
        # Adding a field without masking it first is the same modulo 2**64 as masking it.
        if 0 <= purpose < _PREFIX_PURPOSES and 0 <= seed:
            h = (_PREFIXES.get(seed) or _prefixes(seed))[purpose]
        else:
            return ((_word_int(seed, int(purpose), customer, invoice, step) >> 11) + 0.5) * _TWO_POW_MINUS_53
        z = (h + customer + _GOLDEN) & _MASK
        z = ((z ^ (z >> 30)) * _M1) & _MASK
        z = ((z ^ (z >> 27)) * _M2) & _MASK
        z = ((z ^ (z >> 31)) + invoice + _GOLDEN) & _MASK
        z = ((z ^ (z >> 30)) * _M1) & _MASK
        z = ((z ^ (z >> 27)) * _M2) & _MASK
        z = ((z ^ (z >> 31)) + step + _GOLDEN) & _MASK
        z = ((z ^ (z >> 30)) * _M1) & _MASK
        z = ((z ^ (z >> 27)) * _M2) & _MASK
        return (((z ^ (z >> 31)) >> 11) + 0.5) * _TWO_POW_MINUS_53
    if all(isinstance(a, int) for a in (seed, purpose, customer, invoice, step)):  # e.g. bool keys
        return ((_word_int(seed, int(purpose), customer, invoice, step) >> 11) + 0.5) * _TWO_POW_MINUS_53
    word = _word_array(seed, purpose, customer, invoice, step)
    return ((word >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_POW_MINUS_53


# --- variates by inverse CDF -------------------------------------------------------------------

# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425


def _poly(coefs, x):
    acc = coefs[0]
    for c in coefs[1:]:
        acc = acc * x + c
    return acc


def normal_ppf(p: Number) -> Number:
    """Standard normal quantile of ``p`` in (0, 1); works on floats and arrays alike."""
    if isinstance(p, float):  # the engine's per-event path, the same arithmetic without NumPy
        if _P_LOW <= p <= 1.0 - _P_LOW:
            q = p - 0.5
            r = q * q
            return _poly(_A, r) * q / (_poly(_B, r) * r + 1.0)
        q_low = math.sqrt(-2.0 * math.log(min(p, 1.0 - p)))
        tail = _poly(_C, q_low) / (_poly(_D, q_low) * q_low + 1.0)
        return tail if p < 0.5 else -tail
    p_arr = np.asarray(p, dtype=np.float64)
    q_low = np.sqrt(-2.0 * np.log(np.minimum(p_arr, 1.0 - p_arr)))
    tail = _poly(_C, q_low) / (_poly(_D, q_low) * q_low + 1.0)
    tail = np.where(p_arr < 0.5, tail, -tail)
    q = p_arr - 0.5
    r = q * q
    central = _poly(_A, r) * q / (_poly(_B, r) * r + 1.0)
    in_tail = (p_arr < _P_LOW) | (p_arr > 1.0 - _P_LOW)
    out = np.where(in_tail, tail, central)
    return float(out) if np.ndim(p) == 0 else out


# Scalar fast paths below call the same NumPy ufuncs as the array paths (np.log1p, np.exp): NumPy's
# vectorised float64 log and exp can differ from the math module's in the last bit, while a ufunc
# gives the same bits on a Python float as on an array element. Only the NumPy plumbing is skipped.
_log1p = np.log1p
_exp = np.exp


def exponential(p: Number, mean: Number) -> Number:
    """Exponential variate with the given mean, from a uniform ``p``."""
    if type(p) is float and (type(mean) is float or type(mean) is int):
        return float(-float(mean) * _log1p(-p))
    out = -np.asarray(mean, dtype=np.float64) * np.log1p(-np.asarray(p, dtype=np.float64))
    return float(out) if np.ndim(out) == 0 else out


def lognormal(p: Number, median: Number, sigma: Number) -> Number:
    """Log-normal variate with the given median and log-scale ``sigma``."""
    if type(p) is float and type(median) in (float, int) and type(sigma) in (float, int):
        return float(float(median) * _exp(float(sigma) * normal_ppf(p)))
    out = np.asarray(median, dtype=np.float64) * np.exp(np.asarray(sigma) * normal_ppf(p))
    return float(out) if np.ndim(out) == 0 else out


def geometric_days(p: Number, mean_days: Number) -> Number:
    """Whole days >= 1 until the next event of a daily Bernoulli stream with this mean gap."""
    if type(p) is float and type(mean_days) in (float, int):
        daily = 1.0 / max(float(mean_days), 1.0)
        if daily == 1.0:
            return 1  # log1p(-1) is -inf: a finite log over it is 0, so the gap is always one day
        log_q = float(_log1p(-daily))
        if log_q != 0.0:  # (an infinite mean gap gives 0: left to the array path's inf arithmetic)
            return math.floor(float(_log1p(-p)) / log_q) + 1
    daily = 1.0 / np.maximum(np.asarray(mean_days, dtype=np.float64), 1.0)
    with np.errstate(divide="ignore"):  # a mean gap of one day gives log(0): every day, gap 1
        log_q = np.log1p(-daily)
        out = (np.floor(np.log1p(-np.asarray(p, dtype=np.float64)) / log_q) + 1.0).astype(np.int64)
    return int(out) if np.ndim(out) == 0 else out


def uniform_int(p: Number, low: int, high: int) -> Number:
    """Integer uniform on ``low..high`` inclusive, from a uniform ``p``."""
    if type(p) is float and type(low) is int and type(high) is int:
        return low + math.floor(p * float(high - low + 1))
    out = low + np.floor(np.asarray(p, dtype=np.float64) * (high - low + 1)).astype(np.int64)
    return int(out) if np.ndim(out) == 0 else out


def derive_seed(seed: int, index: int) -> int:
    """The seed of replication ``index`` of a job seeded ``seed`` (63 bits, a pure function of both)."""
    return _word_int(seed & _MASK, 0x5EED, index, 0, 0) >> 1
