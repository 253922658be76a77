"""The same seed gives the same numbers on another kind of x86-64 CPU.

NumPy's exp, log and power take a different routine on CPUs with AVX-512 than on CPUs with AVX2 only, and
the C library's take a different one with and without FMA; the routines can differ in the last bit. Each
test runs the bundled scenarios in a child process made to take the other routine (NumPy's
``NPY_DISABLE_CPU_FEATURES``, glibc's ``GLIBC_TUNABLES``) and compares every metric with this process's
machine path, exactly. A canary in the child shows that the switch took effect; where it did not (the
machine lacks AVX-512, or its C library has no FMA variant) the test is skipped, since it would compare
a run with itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT

CHILD = r"""
import dataclasses, hashlib, json, math, sys
import numpy as np
import collectsim
from collectsim.config.scaled import scaled_scenario

x = np.linspace(-20.0, 3.0, 20001)
canary = {
    "numpy": hashlib.sha256(np.exp(x).tobytes() + np.log1p(-np.abs(x) / 21).tobytes()).hexdigest(),
    "libm": hashlib.sha256(np.array([math.exp(v) + math.log1p(-abs(v) / 21) for v in x.tolist()]).tobytes())
    .hexdigest(),
}

def exact(value):
    if isinstance(value, float):
        return value.hex()
    return int(value) if isinstance(value, (int, np.integer)) else str(value)


results = {}
for name in ("baseline", "large-manufacturers", "seasonal"):
    scenario = scaled_scenario(f"scenarios/{name}.toml", 60)
    comparison = collectsim.compare(scenario, reps=4, seed=7, progress=False)
    table = comparison.replication_table()
    one = collectsim.simulate(scenario, seed=7, engine="simpy").metrics
    results[name] = {"replications": [[exact(v) for v in row] for row in table.itertuples(index=False)],
                     "simpy": {k: exact(v) for k, v in dataclasses.asdict(one).items()}}
print(json.dumps({"canary": canary, "results": results}))
"""

SWITCHES = {
    "numpy without AVX-512": ("numpy", {"NPY_DISABLE_CPU_FEATURES": "X86_V4"}),
    "C library without FMA": ("libm", {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2_Usable,-FMA_Usable,-AVX2,-FMA,-FMA4"}),
}


def run_child(extra_env: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NPY_DISABLE_CPU_FEATURES", "GLIBC_TUNABLES")}
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def native() -> dict:
    return run_child({})


@pytest.mark.parametrize("switch", list(SWITCHES))
def test_results_do_not_depend_on_the_cpu_routines(native, switch):
    canary, env = SWITCHES[switch]
    other = run_child(env)
    if other["canary"][canary] == native["canary"][canary]:
        pytest.skip(f"{switch}: this machine computes the same canary either way, nothing to compare")
    for name, got in other["results"].items():
        want = native["results"][name]
        assert got["simpy"] == want["simpy"], f"{name}: the SimPy engine's metrics differ under '{switch}'"
        for row_got, row_want in zip(got["replications"], want["replications"], strict=True):
            assert row_got == row_want, f"{name}: a replication differs under '{switch}': {row_got[:2]}"
