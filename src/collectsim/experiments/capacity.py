"""Will the job fit in memory? An estimate made before any simulation, checked against the machine.

A run holds every invoice and event of its portfolio at once, so its memory grows with customers x
orders per year x years. Measured on the baseline's policies (peak resident memory over the interpreter's,
one run, both engines; ``/tmp`` experiment of issue 25): about 600-900 bytes per invoice, events and the
metrics' frames included, and about 1 kB per customer; days add little. :data:`BYTES_PER_INVOICE` and
:data:`BYTES_PER_CUSTOMER` round those up. A job is refused when its estimate exceeds the memory the
machine has available (``MemAvailable`` in ``/proc/meminfo``, or a cgroup's limit when lower).
"""

from __future__ import annotations

import os
from pathlib import Path

from collectsim.config.scenario import Scenario
from collectsim.config.schema import ScenarioError

BYTES_PER_INVOICE = 1_000
BYTES_PER_CUSTOMER = 1_200
#: A Python process with numpy, pandas and the engines imported (a worker's cost before any run).
BYTES_PER_PROCESS = 150 * 2**20


def expected_invoices(scenario: Scenario) -> float:
    """Invoices one run is expected to issue (warm-up and measured period; none in the run-off)."""
    years = (scenario.horizon.warmup_days + scenario.horizon.measured_days) / 365.0
    total = 0.0
    for seg in scenario.portfolio.segments:
        newcomers = seg.new_customers_per_year * years
        total += (seg.customers + newcomers / 2) * seg.orders_per_year * years  # newcomers order half the time
    return total


def expected_customers(scenario: Scenario) -> float:
    years = (scenario.horizon.warmup_days + scenario.horizon.measured_days) / 365.0
    return sum(s.customers + s.new_customers_per_year * years for s in scenario.portfolio.segments)


def run_bytes(scenario: Scenario) -> float:
    """Estimated memory of one run of ``scenario``, in bytes."""
    return BYTES_PER_INVOICE * expected_invoices(scenario) + BYTES_PER_CUSTOMER * expected_customers(scenario)


def available_memory() -> int | None:
    """Bytes of memory available to this process now (None when the system does not say)."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:  # a container's limit (cgroup v2)
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            found.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB"


def check_memory(scenario: Scenario, runs_at_once: int = 1, processes: int = 1) -> float:
    """Refuse (ScenarioError, one line) a job whose estimated memory exceeds what the machine has.

    ``runs_at_once`` runs are held in memory together (batches, ``run --all``), in ``processes`` processes
    besides this one. Returns the estimate in bytes.
    """
    per_run = run_bytes(scenario)
    need = per_run * max(1, runs_at_once) + BYTES_PER_PROCESS * max(0, processes - 1)
    have = available_memory()
    if have is not None and need > have:
        invoices = expected_invoices(scenario)
        several = f" x {runs_at_once} runs held at once" if runs_at_once > 1 else ""
        raise ScenarioError(
            scenario.source, "portfolio", f"{scenario.portfolio.customer_count:,} customers",
            f"needs about {_gb(need)} of memory (about {invoices:,.0f} invoices per run at ~1 kB each{several}), "
            f"more than the {_gb(have)} this machine has available; use fewer customers or orders_per_year, "
            "shorter warmup_days or measured_days" + (", or fewer --workers" if processes > 1 else ""))
    return need
