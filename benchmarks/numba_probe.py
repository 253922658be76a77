"""Probe for issue 5's steering question: would a compiled (numba) kernel keep the engines' exact agreement?

Not part of ``make bench`` and not a dependency: numba is only needed to run this probe
(``.venv/bin/pip install numba``, then ``.venv/bin/python benchmarks/numba_probe.py``).

It compiles the SimPy engine's per-event churn-hazard integral (``behaviour.churn_hazard_integral``, the
scalar loop with ``math.exp``) with numba, and checks it bit for bit against the engine's own function on
300,000 random (gap, days) pairs. It times the three ways of computing it: the engine's Python loop, the
vectorised engine's NumPy blocks (``CustomerState._series``; about a fifth of that engine's time on the
dashboard unit) and the compiled loop. It also counts how often ``math.exp`` compiled by numba, and
``np.exp``, differ from CPython's ``math.exp`` (NumPy's SIMD exp is why the vectorised engine tabulates),
and how often numba's compiled ``np.exp``, ``np.log1p`` and ``np.log`` (the ufuncs the draws call) differ
from NumPy's: a compiled kernel matches the engines only where both use the C library's routines.
"""

from __future__ import annotations

import math
import time

import numpy as np
from collectsim.vector_customers import CustomerState

from collectsim.model import behaviour

try:
    import numba
except ImportError:
    raise SystemExit("numba is not installed: .venv/bin/pip install numba (only this probe needs it)") from None

_K = np.array(behaviour._K_FACT[:40])


@numba.njit
def hazard_integrals(h0, slope, gap, days, tau, k_fact, out):
    """The engine's scalar loop, element by element, compiled."""
    for i in range(len(gap)):
        d = slope * gap[i]
        if d == 0.0:
            out[i] = h0[i] * days[i]
            continue
        w = d * math.exp(-days[i] / tau)
        series, d_pow, w_pow = 0.0, 1.0, 1.0
        for k in range(len(k_fact)):
            d_pow *= d
            w_pow *= w
            term = (d_pow - w_pow) / k_fact[k]
            series += term
            tol = 1e-17 * (series if series >= 0.0 else -series)
            if -tol < term < tol:
                break
        out[i] = h0[i] * (days[i] + tau * series)


@numba.njit
def exps(x, out):
    for i in range(len(x)):
        out[i] = math.exp(x[i])


@numba.njit
def draws_ufuncs(x, p, out_exp, out_log1p, out_log):
    """The three NumPy ufuncs the draws apply to the engine's scalars (``collectsim.model.draws``), compiled."""
    for i in range(len(x)):
        out_exp[i] = np.exp(x[i])
        out_log1p[i] = np.log1p(-p[i])
        out_log[i] = np.log(p[i])


def main() -> int:
    rng = np.random.default_rng(1)
    n, slope, tau = 300_000, 3.0, 180.0
    gap = rng.uniform(-0.6, 0.6, n)
    gap[::7] = 0.0
    days = rng.integers(1, 1200, n)
    h0 = rng.uniform(1e-5, 1e-3, n)
    out = np.empty(n)
    hazard_integrals(h0[:4], slope, gap[:4], days[:4], tau, _K, out[:4])  # compile outside the clock

    start = time.perf_counter()
    ref = np.array([behaviour.churn_hazard_integral(float(a), slope, float(g), int(x), tau)
                    for a, g, x in zip(h0, gap, days)])
    t_python = time.perf_counter() - start

    blocks = CustomerState()
    blocks._k_fact_column = _K[:, None]
    live = gap != 0.0
    d = slope * gap[live]
    w = d * np.array([math.exp(-x / tau) for x in days[live]])  # the engine's decay table holds math.exp
    start = time.perf_counter()
    blocks._series(d, w)
    t_numpy = time.perf_counter() - start

    start = time.perf_counter()
    hazard_integrals(h0, slope, gap, days, tau, _K, out)
    t_numba = time.perf_counter() - start

    same = np.array_equal(ref.view(np.int64), out.view(np.int64))
    print(f"{n:,} churn-hazard integrals (numba {numba.__version__}, NumPy {np.__version__}):")
    print(f"  SimPy engine's Python loop       {t_python:8.3f} s")
    print(f"  vectorised engine's NumPy blocks {t_numpy:8.3f} s   (series only)")
    print(f"  compiled loop                    {t_numba:8.3f} s   bit-identical to the engine's: {same}")
    x = -rng.uniform(0.0, 10.0, n)
    compiled, libm = np.empty(n), np.array([math.exp(v) for v in x])
    exps(x, compiled)
    print(f"  exp of {n:,} values: numba math.exp differs from CPython's in {(compiled != libm).sum():,}, "
          f"np.exp in {(np.exp(x) != libm).sum():,}")
    # The draws (exponential, lognormal, geometric days, churn thresholds) call NumPy's ufuncs, which take
    # NumPy's own routines (AVX-512 ones on such CPUs); numba compiles the same calls to the C library's.
    p = rng.uniform(0.0, 1.0, n)
    got = {name: np.empty(n) for name in ("exp", "log1p", "log")}
    draws_ufuncs(x, p, got["exp"], got["log1p"], got["log"])
    want = {"exp": np.exp(x), "log1p": np.log1p(-p), "log": np.log(p)}
    libm = {"exp": np.array([math.exp(v) for v in x]), "log1p": np.array([math.log1p(-v) for v in p]),
            "log": np.array([math.log(v) for v in p])}
    for name in got:
        print(f"  np.{name} of {n:,} values compiled by numba differs from NumPy's in "
              f"{(got[name] != want[name]).sum():,}, from CPython's math.{name} in {(got[name] != libm[name]).sum():,}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
