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
paths agree bit for bit. The compiled engine has a third path over ``uint64`` (``uniform_word``),
tested against this one.

Variates are made from uniforms by inverse CDF (not ``numpy.random.Generator`` methods, whose
streams may change between NumPy versions). Each variate is a plain function of floats whose
transcendental functions come from the ``math`` module, that is from the C library: the compiled
engine calls the very same functions through numba, which uses the same C library routines, so a
variate has the same bits in Python and in compiled code. (NumPy's own ``exp`` and ``log`` run
other routines on CPUs with AVX-512, which differ in the last bit.) The ``*_array`` helpers apply
the same scalar arithmetic to arrays, for drawing a whole portfolio at once.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TWO_POW_MINUS_53 = 2.0**-53

#: Functions the compiled engine compiles with numba (see :mod:`collectsim.engines.jit`).
__jit__ = ("normal_ppf", "exponential", "lognormal", "geometric_days", "uniform_int", "_poly6", "_poly5",
           "_poly4")


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
    DISPUTE_PREVENTED = 41
    ON_DUE_DATE = 42
    PAYMENT_WEEKDAY = 43
    INVOICE_TERMS = 44
    OPEN_PAY_DAY = 45  # an opening invoice's own payment day, redrawn until after as-of (step: 6 x try + part)
    DESK_RESPONSE = 46  # the training desk's account: its response threshold, redrawn in each future
    OPEN_PART_PAYMENT = 47  # an opening invoice's unseen part payments before as-of (2 x (try x chain + k) + part)
    OPEN_DISPUTE = 48  # a flagged opening invoice's dispute: raise day, resolution, pay delay (step: 3 x try + part)
    OPEN_GONE = 49  # an opening customer who has not ordered for a while: whether it had churned before as-of


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


# --- variates by inverse CDF (scalars; compiled as they are) ---------------------------------------

# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_A0, _A1, _A2, _A3, _A4, _A5 = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
                                1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B0, _B1, _B2, _B3, _B4 = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
                           6.680131188771972e01, -1.328068155288572e01)
_C0, _C1, _C2, _C3, _C4, _C5 = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
                                -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D0, _D1, _D2, _D3 = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425


def _poly6(c0: float, c1: float, c2: float, c3: float, c4: float, c5: float, x: float) -> float:
    return ((((c0 * x + c1) * x + c2) * x + c3) * x + c4) * x + c5


def _poly5(c0: float, c1: float, c2: float, c3: float, c4: float, x: float) -> float:
    return (((c0 * x + c1) * x + c2) * x + c3) * x + c4


def _poly4(c0: float, c1: float, c2: float, c3: float, x: float) -> float:
    return ((c0 * x + c1) * x + c2) * x + c3


def normal_ppf(p: float) -> float:
    """Standard normal quantile of ``p`` in (0, 1)."""
    if _P_LOW <= p <= 1.0 - _P_LOW:
        q = p - 0.5
        r = q * q
        return _poly6(_A0, _A1, _A2, _A3, _A4, _A5, r) * q / (_poly5(_B0, _B1, _B2, _B3, _B4, r) * r + 1.0)
    q_low = math.sqrt(-2.0 * math.log(min(p, 1.0 - p)))
    tail = _poly6(_C0, _C1, _C2, _C3, _C4, _C5, q_low) / (_poly4(_D0, _D1, _D2, _D3, q_low) * q_low + 1.0)
    return tail if p < 0.5 else -tail


def exponential(p: float, mean: float) -> float:
    """Exponential variate with the given mean, from a uniform ``p``."""
    return -mean * math.log1p(-p)


def lognormal(p: float, median: float, sigma: float) -> float:
    """Log-normal variate with the given median and log-scale ``sigma``."""
    return median * math.exp(sigma * normal_ppf(p))


#: What ``geometric_days`` returns for an infinite mean gap: beyond any horizon.
NEVER_GAP = 1 << 40


def geometric_days(p: float, mean_days: float) -> int:
    """Whole days >= 1 until the next event of a daily Bernoulli stream with this mean gap."""
    daily = 1.0 / max(mean_days, 1.0)
    if daily == 1.0:
        return 1  # log1p(-1) is -inf: the gap is always one day
    log_q = math.log1p(-daily)
    if log_q == 0.0:
        return NEVER_GAP  # an infinite mean gap: no next event
    return math.floor(math.log1p(-p) / log_q) + 1


def uniform_int(p: float, low: int, high: int) -> int:
    """Integer uniform on ``low..high`` inclusive, from a uniform ``p``."""
    return low + math.floor(p * float(high - low + 1))


# --- the same variates over arrays ------------------------------------------------------------------

def normal_ppf_array(p: np.ndarray) -> np.ndarray:
    """``normal_ppf`` element by element: the central region as array arithmetic (the same operations in the
    same order, which IEEE makes exact), the tails through the scalar function (the C library's log)."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    r = q * q
    out = _poly6(_A0, _A1, _A2, _A3, _A4, _A5, r) * q / (_poly5(_B0, _B1, _B2, _B3, _B4, r) * r + 1.0)
    tail = (p < _P_LOW) | (p > 1.0 - _P_LOW)
    if np.any(tail):
        out = np.array(out, dtype=np.float64, copy=True, ndmin=1)
        flat_p, flat_out, flat_tail = p.reshape(-1), out.reshape(-1), tail.reshape(-1)
        for i in np.flatnonzero(flat_tail).tolist():
            flat_out[i] = normal_ppf(float(flat_p[i]))
        out = flat_out.reshape(p.shape)
    return out


def uniform_int_array(p: np.ndarray, low: int, high: int) -> np.ndarray:
    """``uniform_int`` over an array (floor of a product: exact in NumPy as in Python)."""
    return low + np.floor(np.asarray(p, dtype=np.float64) * float(high - low + 1)).astype(np.int64)


def elementwise(fn, p: np.ndarray, *args) -> np.ndarray:
    """Any scalar variate applied to each uniform of ``p`` (for tests and small arrays)."""
    values = [fn(x, *args) for x in np.asarray(p, dtype=np.float64).reshape(-1).tolist()]
    return np.asarray(values).reshape(np.shape(p))


def derive_seed(seed: int, index: int) -> int:
    """The seed of replication ``index`` of a job seeded ``seed`` (63 bits, a pure function of both)."""
    return _word_int(seed & _MASK, 0x5EED, index, 0, 0) >> 1
