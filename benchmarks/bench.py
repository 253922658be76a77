"""Benchmarks of both engines against references measured in the same run.

Run with ``make bench`` (or ``python benchmarks/bench.py``); it prints a table and writes
``benchmarks/results.json``. Every figure is the median of ``runs`` timings taken in this run (the
``runs`` count is stored beside it), next to its reference: bare SimPy and a plain SimPy invoice
model are timed here too, so a busy machine slows figure and reference alike.

"One year" means the baseline's horizon: 180 days of warm-up and 365 measured days in which
invoices are issued, then the run-off in which the open invoices are collected (no new ones).
An *event* is one processed SimPy event (counted with a counting Environment in a separate,
untimed run, since the count is deterministic), on both sides of simpy_vs_bare_simpy_ratio. The
counts are also split by event class: in bare SimPy nearly all are timeouts, while the engine's
include each invoice process's start (Initialize) and end (Process) besides its wake-ups.

Modes:
  (default)  a few minutes: dashboard unit and the dashboard's own updates timed once, sizes 1k, 10k and
             100k customers, 1,000,000 customers extrapolated along the 10k-100k line (labelled as such);
  --full     also times 1,000,000 customers, with 3 runs of the dashboard unit and updates;
  --smoke    tiny sizes, one run each: checks that the script works and writes every key (tests);
  --size N   only one run at N customers (time and peak memory), e.g. --size 100000; with --apart, the baseline
             without its team (customers who never meet: the run goes in parts).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import simpy

import collectsim
from collectsim.config.scaled import scaled_scenario
from collectsim.engines.compiled_engine import run_batch
from collectsim.engines.simpy_engine import SimpyEngine
from collectsim.experiments import capacity
from collectsim.experiments.executors import open_executor, run_all
from collectsim.experiments.replication import Task, run_task
from collectsim.model.rule_policy import RuleBasedPolicy

HERE = Path(__file__).resolve().parent
BASELINE = HERE.parent / "scenarios" / "baseline.toml"
TARGETS = {"simpy_vs_bare_simpy_ratio": (">=", 0.3), "compiled_vs_simpy_ratio": (">=", 50),
           "dashboard_update_s": ("<=", 0.5), "customers_1m_s": ("<=", 60), "customers_1m_peak_mb": ("<=", 4096),
           "parallel_efficiency_2": (">=", 0.8), "compile_s": ("<=", 30), "optimise_s": ("<=", 60),
           "bench_s": ("<=", 600), "app_first_result_s": ("<=", 3)}
#: The optimiser's benchmark: four levers of the baseline's first policy (as-is), 5 x 3 x 3 x 3 = 135 grid points.
OPTIMISE_LEVERS = ("reminders.steps.0.offset=-5:15:5", "reminders.steps.1.tone=friendly,firm,final",
                   "discount.rate=0:0.02:0.01", "write_off.age_days=365:1095:365")


class CountingEnvironment(simpy.Environment):
    """An Environment that counts the events it processes, in all and by event class (untimed runs only)."""

    def __init__(self) -> None:
        super().__init__()
        self.processed = 0
        self.by_class: collections.Counter[str] = collections.Counter()

    def step(self) -> None:
        self.processed += 1
        if self._queue:  # the event step() is about to process (SimPy's heap of (time, priority, id, event))
            self.by_class[type(self._queue[0][3]).__name__] += 1
        super().step()


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median wall time of ``runs`` calls of ``fn`` and the last call's return value."""
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def simpy_batch_time(scenario, decider, seeds) -> tuple[float, list]:
    """Seconds the SimPy engine takes for the runs of ``seeds`` one after another, and their outputs.

    Each run is timed once: the batch's time is its invoices over the median of the runs' invoices per second
    (as robust to a busy moment as the median of repeated batches, at a third of the time: the SimPy side is
    most of the benchmark's engine comparisons)."""
    rates, outputs = [], []
    for seed in seeds:
        start = time.perf_counter()
        out = SimpyEngine(scenario, decider, seed).run()
        rates.append(len(out[1]) / (time.perf_counter() - start))
        outputs.append(out)
    return sum(len(out[1]) for out in outputs) / statistics.median(rates), outputs


# --- references ----------------------------------------------------------------------------------------

def bare_simpy(env: simpy.Environment, processes: int, horizon: int) -> simpy.Environment:
    """The shipped bare loop: ``processes`` processes each yielding timeouts of 1-7 days until ``horizon``."""

    def proc(i: int):
        step = 1 + i % 7
        while True:
            yield env.timeout(step)

    for i in range(processes):
        env.process(proc(i))
    env.run(until=horizon)
    return env


def plain_invoice_model(customers: int, horizon: int, seed: int = 1) -> int:
    """A plain SimPy invoice model: customers order every ~30 days, each invoice a process paid ~40 days later.

    The anchor "a plain SimPy invoice model handles 20-25 thousand invoices a second" refers to a model
    like this one (no policy, no log). Its random numbers come from its own ``random.Random(seed)``
    (not collectsim's draws), so speeding up collectsim cannot speed up the reference. Returns the
    number of invoices issued.
    """
    env = simpy.Environment()
    rng = random.Random(seed)
    issued = [0]

    def invoice():
        yield env.timeout(1 + int(rng.expovariate(1 / 40.0)))

    def orders():
        while True:
            yield env.timeout(1 + int(rng.expovariate(1 / 30.0)))
            env.process(invoice())
            issued[0] += 1

    for _ in range(customers):
        env.process(orders())
    env.run(until=horizon)
    return issued[0]


# --- the engine ----------------------------------------------------------------------------------------

def engine_run(scenario, spec, seed: int, env: simpy.Environment | None = None) -> SimpyEngine:
    engine = SimpyEngine(scenario, RuleBasedPolicy(spec, scenario), seed)
    if env is not None:
        engine.env = env  # processes are created in run(), so swapping the Environment here is safe
    engine.run()
    return engine


def peak_rss_kb() -> int:
    """This process's peak resident memory in kilobytes.

    Linux's VmHWM belongs to the process image, so a child started from a large parent reports its own
    peak; ``ru_maxrss`` survives exec and would report the parent's size at fork time if that was larger.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


#: The baseline with no limit on the team's time: its customers never meet, so a large run goes in parts.
APART = {"team": {"staff": 0}}


def one_size(customers: int, seed: int, apart: bool = False) -> dict:
    """Time one default run (``simulate``) of the baseline at ``customers`` customers in this process (``apart``:
    without its team)."""
    scenario = scaled_scenario(BASELINE, customers, APART if apart else None)
    start = time.perf_counter()
    result = collectsim.simulate(scenario, scenario.policy(), seed=seed)
    seconds = time.perf_counter() - start
    return {"customers": customers, "seconds": seconds, "peak_mb": peak_rss_kb() / 1024.0,
            "invoices": len(result.invoices), "events": len(result.events)}


def size_in_child(customers: int, seed: int, apart: bool = False) -> dict:
    """``one_size`` in a fresh process, so its peak memory is that run's alone."""
    out = subprocess.run([sys.executable, __file__, "--size", str(customers), "--seed", str(seed)]
                         + (["--apart"] if apart else []), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


COMPILE_CHILD = """
import sys, time
import collectsim
from collectsim.config.scaled import scaled_scenario
scenario = scaled_scenario(sys.argv[1], 5)
start = time.perf_counter()
collectsim.simulate(scenario, seed=1, engine="compiled")
cold = time.perf_counter() - start
start = time.perf_counter()
collectsim.simulate(scenario, seed=1, engine="compiled")
print(cold - (time.perf_counter() - start))
"""


def compile_in_child(cold: bool = True) -> float:
    """Seconds numba takes to compile the kernel from nothing (a fresh process, an empty cache folder); with
    ``cold`` False (the smoke run) the usual cache is used, so the figure is only the cache's loading time."""
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache} if cold else dict(os.environ)
        out = subprocess.run([sys.executable, "-c", COMPILE_CHILD, str(BASELINE)], env=env, check=True,
                             capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def run_reps(scenario, spec, reps: int, workers: int | None, warm: bool = False) -> float:
    """Seconds to run ``reps`` replications; with ``warm`` the worker processes are started (and have
    imported collectsim) before the clock starts, otherwise their start-up is timed too, as in ``compare``."""
    tasks = [Task(scenario, spec, spec.name, j, 1000 + j) for j in range(reps)]
    start = time.perf_counter()
    with open_executor(None, workers) as ex:
        if warm and ex is not None:
            tiny = scaled_scenario(BASELINE, 5)
            warmups = [ex.submit(run_task, Task(tiny, tiny.policy(), "warm-up", j, j)) for j in range(2 * workers)]
            for future in warmups:
                future.result()
            start = time.perf_counter()
        run_all(run_task, tasks, ex, lambda task, result: None, progress=False)
        elapsed = time.perf_counter() - start
    return elapsed


# --- the whole benchmark ---------------------------------------------------------------------------------

def measure(mode: str) -> dict:
    smoke, full = mode == "smoke", mode == "full"
    runs = 1 if smoke else 3
    seed = 1
    res: dict = {"mode": mode, "machine": {"python": platform.python_version(), "simpy": simpy.__version__,
                                          "cpus": os.cpu_count(), "load_avg_1min_at_start": os.getloadavg()[0]}}
    runs_of: dict[str, int] = {}
    notes: dict[str, str] = {}

    # Bare SimPy (the reference for events/s).
    procs, horizon = (50, 100) if smoke else (1000, 730)
    bare_counted = bare_simpy(CountingEnvironment(), procs, horizon)
    bare_events = bare_counted.processed
    t, _ = median_time(lambda: bare_simpy(simpy.Environment(), procs, horizon), 1 if smoke else 5)
    res["bare_simpy_events_per_s"] = bare_events / t
    runs_of["bare_simpy_events_per_s"] = 1 if smoke else 5

    # A plain SimPy invoice model (the reference for invoices/s).
    plain_customers = 20 if smoke else 1000
    t, invoices = median_time(lambda: plain_invoice_model(plain_customers, 545 + 365), runs)
    res["plain_simpy_invoices_per_s"] = invoices / t
    runs_of["plain_simpy_invoices_per_s"] = runs

    # The engine on the baseline (events/s and invoices/s from the engine's run alone).
    base = scaled_scenario(BASELINE, 20) if smoke else collectsim.load_scenario(BASELINE)
    spec = base.policy()
    counted = engine_run(base, spec, seed, CountingEnvironment())
    events, invoices = counted.env.processed, len(counted._rows)
    t, _ = median_time(lambda: engine_run(base, spec, seed), runs)
    res["simpy_engine_events_per_s"] = events / t
    res["simpy_engine_invoices_per_s"] = invoices / t
    res["simpy_vs_bare_simpy_ratio"] = res["simpy_engine_events_per_s"] / res["bare_simpy_events_per_s"]
    res["simpy_engine_vs_plain_invoice_ratio"] = res["simpy_engine_invoices_per_s"] / res["plain_simpy_invoices_per_s"]
    t_sim, _ = median_time(lambda: collectsim.simulate(base, spec, seed=seed), runs)
    res["simulate_baseline_s"] = t_sim
    for key in ("simpy_engine_events_per_s", "simpy_engine_invoices_per_s", "simpy_vs_bare_simpy_ratio",
                "simpy_engine_vs_plain_invoice_ratio", "simulate_baseline_s"):
        runs_of[key] = runs
    res["baseline_run"] = {"customers": base.portfolio.customer_count, "policy": spec.name, "seed": seed,
                           "simpy_events": events, "invoices": invoices, "log_events": len(counted.log),
                           "simpy_events_by_class": dict(counted.env.by_class),
                           "bare_simpy_events_by_class": dict(bare_counted.by_class)}
    notes["simpy_vs_bare_simpy_ratio"] = (
        "processed SimPy events per second of the engine / of bare SimPy, both counted in all (baseline_run has "
        "them by class: the engine's include each invoice process's start and end besides its wake-ups)")

    # The compiled engine against the SimPy engine on one batch of replications of the baseline portfolio
    # (the kernel compiled and warm before the clock: its cold compile is compile_s).
    batch_reps = 2 if smoke else 20
    batch_seeds = [1000 + j for j in range(batch_reps)]
    decider = RuleBasedPolicy(spec, base)
    run_batch(base, [decider.tables], batch_seeds[:1])
    t_simpy, simpy_out = simpy_batch_time(base, decider, batch_seeds)
    t_comp, comp_out = median_time(lambda: run_batch(base, [decider.tables], batch_seeds), runs)
    batch_invoices = sum(len(out[1]) for out in simpy_out)
    assert batch_invoices == sum(len(out[1]) for out in comp_out), "engines disagree: see tests/equivalence"
    res["compiled_invoices_per_s"] = batch_invoices / t_comp
    res["simpy_batch_invoices_per_s"] = batch_invoices / t_simpy
    res["compiled_vs_simpy_ratio"] = res["compiled_invoices_per_s"] / res["simpy_batch_invoices_per_s"]
    res["compiled_batch"] = {"reps": batch_reps, "customers": base.portfolio.customer_count, "policy": spec.name,
                             "invoices": batch_invoices, "simpy_s": t_simpy, "compiled_s": t_comp}
    for key in ("compiled_invoices_per_s", "compiled_vs_simpy_ratio"):
        runs_of[key] = runs
    runs_of["simpy_batch_invoices_per_s"] = batch_reps
    notes["compiled_vs_simpy_ratio"] = (f"{batch_reps} replications of the baseline portfolio: the SimPy engine "
                                        f"one after another (each run timed once; the median of their invoices "
                                        f"per second), the compiled engine as one batch on its threads (median of "
                                        f"{runs} batches; engines alone, no metrics; kernel warm); same invoices, "
                                        f"so the ratio is the ratio of times")

    # The same comparison where customers meet: a limited team (its queue) and reputation spill-over.
    team = scaled_scenario(BASELINE, base.portfolio.customer_count if not smoke else 20,
                           {"team": {"staff": 1.0}, "behaviour": {"reputation_spillover": 0.2}})
    team_spec = team.policy("firm-and-fair")
    team_decider = RuleBasedPolicy(team_spec, team)
    team_seeds = batch_seeds[: (2 if smoke else 10)]
    t_simpy, simpy_out = simpy_batch_time(team, team_decider, team_seeds)
    t_comp, comp_out = median_time(lambda: run_batch(team, [team_decider.tables], team_seeds), runs)
    team_invoices = sum(len(out[1]) for out in simpy_out)
    assert team_invoices == sum(len(out[1]) for out in comp_out), "engines disagree: see tests/equivalence"
    res["compiled_vs_simpy_ratio_team"] = t_simpy / t_comp
    res["compiled_team_batch"] = {"reps": len(team_seeds), "customers": team.portfolio.customer_count,
                                  "policy": team_spec.name, "staff": 1.0, "reputation_spillover": 0.2,
                                  "invoices": team_invoices, "simpy_s": t_simpy, "compiled_s": t_comp}
    runs_of["compiled_vs_simpy_ratio_team"] = runs
    notes["compiled_vs_simpy_ratio_team"] = (f"as compiled_vs_simpy_ratio, {len(team_seeds)} replications with one "
                                             f"collector ([team] staff 1) and reputation spill-over 0.2, where "
                                             f"customers meet (no target; same invoices, so the ratio of times)")

    # The kernel's cold compile, in a fresh process with an empty cache folder.
    res["compile_s"] = compile_in_child(cold=not smoke)
    runs_of["compile_s"] = 1
    notes["compile_s"] = ("first compiled run of a tiny scenario in a fresh process with an empty NUMBA_CACHE_DIR, "
                          "less the same run once warm: numba compiling the rules and the event loop")

    # Dashboard unit: 2 policies x 1,000 customers x 1 year x 10 replications, default engine and executor.
    dash_customers, dash_reps = (20, 2) if smoke else (1000, 10)
    dash = scaled_scenario(BASELINE, dash_customers)
    names = [p.name for p in dash.policies[:2]]
    dash_runs = 3 if full else 1
    t, _ = median_time(lambda: collectsim.compare(dash, names, reps=dash_reps, progress=False), dash_runs)
    res["dashboard_unit_s"] = t
    runs_of["dashboard_unit_s"] = dash_runs
    res["dashboard_unit"] = {"policies": names, "customers": dash_customers, "reps": dash_reps}
    dashboard_updates(res, runs_of, notes, dash_customers, dash_reps, dash_runs)

    optimise_timed(res, runs_of, notes, smoke)

    # The app: page load to the first headline cards, one kernel pre-heated (a browser and a server: minutes).
    if smoke:
        res["app_first_result_s"] = res["app_levers_live_s"] = None
        notes["app_first_result_s"] = "not run in smoke mode (it starts a server and a browser)"
    else:
        from app_bench import first_result_seconds
        res["app_first_result_s"], res["app_levers_live_s"], notes["app_first_result_s"] = \
            first_result_seconds(BASELINE.parent, runs)
    runs_of["app_first_result_s"] = runs_of["app_levers_live_s"] = runs

    # How cost grows with the portfolio (each size in a fresh process: time and peak memory).
    sizes = [20, 40] if smoke else [1000, 10_000, 100_000] + ([1_000_000] if full else [])
    scaling = []
    for n in sizes:
        need, have = capacity.run_bytes(scaled_scenario(BASELINE, n)), capacity.available_memory()
        if have is not None and need > have:  # refused as the command line would refuse it, not run into swap
            notes[f"customers_{n}"] = (f"{n:,} customers not run: estimated {need / 2**30:,.1f} GB, "
                                       f"{have / 2**30:,.1f} GB available (collectsim.experiments.capacity)")
            continue
        size_runs = 1 if (smoke or n >= 100_000) else runs
        samples = [size_in_child(n, seed) for _ in range(size_runs)]
        row = dict(samples[-1])
        row["seconds"] = statistics.median(s["seconds"] for s in samples)
        row["peak_mb"] = statistics.median(s["peak_mb"] for s in samples)
        row["runs"] = size_runs
        scaling.append(row)
    res["scaling"] = scaling
    for row in scaling:
        label = {1000: "1k", 10_000: "10k", 100_000: "100k", 1_000_000: "1m"}.get(row["customers"])
        if label:
            res[f"customers_{label}_s"] = row["seconds"]
            res[f"customers_{label}_peak_mb"] = row["peak_mb"]
            runs_of[f"customers_{label}_s"] = runs_of[f"customers_{label}_peak_mb"] = row["runs"]
    if not any(row["customers"] == 1_000_000 for row in scaling):
        (n0, t0, m0), (n1, t1, m1) = [(r["customers"], r["seconds"], r["peak_mb"]) for r in scaling[-2:]]
        res["customers_1m_s"] = None
        res["customers_1m_peak_mb"] = None
        slope_t, slope_m = (t1 - t0) / (n1 - n0), (m1 - m0) / (n1 - n0)
        # A line through two noisy timings can fall; then there is no honest estimate to give.
        res["customers_1m_s_extrapolated"] = t1 + slope_t * (1_000_000 - n1) if slope_t > 0 else None
        res["customers_1m_peak_mb_extrapolated"] = m1 + slope_m * (1_000_000 - n1) if slope_m > 0 else None
        why = notes.get("customers_1000000", "not run in this mode (use --full)")
        notes["customers_1m_s"] = (f"{why}; the *_extrapolated keys extend the line "
                                   f"through the {n0:,}- and {n1:,}-customer runs to 1,000,000 (an estimate; "
                                   f"null when the two timings do not rise with size)")

    # The same sizes without the team: no customer's events depend on another's, so the run goes in parts.
    for n in ([5000] if smoke else [100_000] + ([1_000_000] if full else [])):  # smoke: two parts
        label = {5000: "5k", 100_000: "100k", 1_000_000: "1m"}[n]
        row = size_in_child(n, seed, apart=True)
        res[f"customers_{label}_apart_s"], res[f"customers_{label}_apart_peak_mb"] = row["seconds"], row["peak_mb"]
        runs_of[f"customers_{label}_apart_s"] = runs_of[f"customers_{label}_apart_peak_mb"] = 1
    notes["customers_<n>_apart_s"] = ("as customers_<n>_s, the baseline with [team] staff 0 (no limit on the "
                                       "team's time, so customers never meet and the run goes in parts of "
                                       "4,096 customers on both cores; no target)")

    # Parallel efficiency of the compiled engine's threads: serial / (2 x two threads), 40 replications.
    par_customers = 20 if smoke else 400
    par_reps = 4 if smoke else 40
    par = scaled_scenario(BASELINE, par_customers)
    par_tables = [RuleBasedPolicy(par.policy(), par).tables]
    par_seeds = [2000 + j for j in range(par_reps)]
    serial, _ = median_time(lambda: run_batch(par, par_tables, par_seeds, threads=1), runs)
    parallel, _ = median_time(lambda: run_batch(par, par_tables, par_seeds, threads=2), runs)
    res["parallel_efficiency_2"] = serial / (2 * parallel)
    runs_of["parallel_efficiency_2"] = runs
    # And of worker processes (compare(workers=2)), warm: started before the clock.
    proc_serial = run_reps(par, par.policy(), par_reps, None)
    proc_parallel = run_reps(par, par.policy(), par_reps, 2, warm=True)
    res["parallel_efficiency_2_processes_warm"] = proc_serial / (2 * proc_parallel)
    runs_of["parallel_efficiency_2_processes_warm"] = 1
    res["parallel"] = {"customers": par_customers, "reps": par_reps, "serial_s": serial, "two_threads_s": parallel,
                       "processes_serial_s": proc_serial, "two_warm_processes_s": proc_parallel,
                       "note": "parallel_efficiency_2: the compiled engine's batch on 1 and on 2 threads (the "
                               "kernel releases the interpreter's lock; the inputs of each run are prepared in "
                               "Python); _processes_warm: one task per replication on 2 worker processes "
                               "started before the clock. Other jobs on the machine compete for the 2 cores."}

    res["runs"] = runs_of
    res["notes"] = notes
    res["targets"] = {k: f"{op} {v}" for k, (op, v) in TARGETS.items()}
    res["machine"]["load_avg_1min_at_end"] = os.getloadavg()[0]
    return res


def optimise_timed(res: dict, runs_of: dict, notes: dict, smoke: bool) -> None:
    """``collectsim.optimise`` over :data:`OPTIMISE_LEVERS` on the bundled baseline with a budget of 2,000
    policy-replications (the fresh comparison's 40 included), default engine and executor, as the command runs it."""
    scenario = scaled_scenario(BASELINE, 20) if smoke else collectsim.load_scenario(BASELINE)
    budget, holdout = (60, 5) if smoke else (2000, 20)
    started = time.perf_counter()
    result = collectsim.optimise(scenario, None, OPTIMISE_LEVERS, budget=budget, holdout_reps=holdout, progress=False)
    res["optimise_s"] = time.perf_counter() - started
    runs_of["optimise_s"] = 1
    runs = result.search_runs + 2 * (result.comparison.reps if result.comparison is not None else 0)
    res["optimise"] = {"customers": scenario.portfolio.customer_count, "budget": budget, "runs": runs,
                       "candidates": result.candidates, "rounds": result.rounds, "levers": list(OPTIMISE_LEVERS),
                       "best": {k: str(v) for k, v in result.best_values.items()}}
    notes["optimise_s"] = (f"collectsim.optimise over 4 levers of as-is ({result.candidates} candidates raced, "
                           f"{runs} policy-replications of {budget} budgeted) on {scenario.portfolio.customer_count} "
                           f"customers, in this process (the compiled engine's batches on 2 threads)")


def dashboard_updates(res: dict, runs_of: dict, notes: dict, customers: int, reps: int, runs: int) -> None:
    """What one press of the dashboard's Run costs (its table; a figure is drawn when its tab is shown) on
    the dashboard's own (shorter) horizon and with its default worker processes: the first press (the
    dashboard just made, its workers still starting), then presses after changing both policies, and
    after changing only policy B."""
    from collectsim.apps.dashboard import Dashboard

    quiet = contextlib.redirect_stdout(io.StringIO())  # its messages, printed when outside a notebook
    with quiet:
        started = time.perf_counter()
        dash = Dashboard(BASELINE.parent, BASELINE.stem, customers=customers, reps=reps)
        dash.run()
        res["dashboard_first_update_s"] = time.perf_counter() - started
    rates = iter([0.005 * i for i in range(1, 2 * runs + 1)])

    def press(*sides) -> None:
        rate = next(rates)
        for side in sides:
            side.discount_rate.value = rate
        with contextlib.redirect_stdout(io.StringIO()):
            dash.run()
        assert dash.reused == (0 if len(sides) == 2 else reps), "kept replications were not used as expected"

    try:
        res["dashboard_update_s"], _ = median_time(lambda: press(dash.a, dash.b), runs)
        res["dashboard_update_one_side_s"], _ = median_time(lambda: press(dash.b), runs)
    finally:
        dash.close()
    horizon = f"{dash.warmup_days} days of warm-up, 365 measured, {dash.runoff_days} of run-off"
    runs_of["dashboard_first_update_s"] = 1
    for key in ("dashboard_update_s", "dashboard_update_one_side_s"):
        runs_of[key] = runs
    notes["dashboard_update_s"] = (f"Dashboard.run() at {customers} customers x {reps} replications, its own horizon "
                                   f"({horizon}), {dash.workers} worker processes, the table drawn (a figure is "
                                   f"drawn when its tab is shown), both policies changed (target 0.5 s)")
    notes["dashboard_update_one_side_s"] = ("the same after changing only policy B: A's replications are reused, "
                                            "B's split over the workers")
    notes["dashboard_first_update_s"] = "making the dashboard and its first Run (the workers start meanwhile)"


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def table(res: dict) -> str:
    keys = ["bare_simpy_events_per_s", "simpy_engine_events_per_s", "simpy_vs_bare_simpy_ratio",
            "plain_simpy_invoices_per_s", "simpy_engine_invoices_per_s", "simpy_engine_vs_plain_invoice_ratio",
            "simulate_baseline_s", "compiled_vs_simpy_ratio", "compiled_vs_simpy_ratio_team", "compile_s",
            "dashboard_unit_s", "dashboard_first_update_s", "dashboard_update_s", "dashboard_update_one_side_s",
            "app_first_result_s", "app_levers_live_s",
            "customers_1k_s", "customers_1k_peak_mb", "customers_10k_s", "customers_10k_peak_mb",
            "customers_100k_s", "customers_100k_peak_mb", "customers_1m_s", "customers_1m_peak_mb",
            "customers_1m_s_extrapolated", "customers_1m_peak_mb_extrapolated", "customers_100k_apart_s",
            "customers_100k_apart_peak_mb", "customers_1m_apart_s", "customers_1m_apart_peak_mb",
            "parallel_efficiency_2",
            "parallel_efficiency_2_processes_warm", "optimise_s", "bench_s"]
    lines = [f"{'figure':40} {'value':>14} {'runs':>5}  target", "-" * 75]
    for key in keys:
        if key not in res:
            continue
        target = TARGETS.get(key)
        verdict = ""
        if target and res[key] is not None:
            op, v = target
            met = res[key] >= v if op == ">=" else res[key] <= v
            verdict = f"{op} {v} {'met' if met else 'NOT met'}"
        elif target:
            verdict = f"{target[0]} {target[1]}"
        lines.append(f"{key:40} {_fmt(res[key]):>14} {res['runs'].get(key, ''):>5}  {verdict}")
    for key, note in res["notes"].items():
        lines.append(f"note {key}: {note}")
    lines.append(f"load average (1 min) at start {res['machine']['load_avg_1min_at_start']:.1f}, "
                 f"at end {res['machine']['load_avg_1min_at_end']:.1f}, on {res['machine']['cpus']} CPUs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--full", action="store_true", help="also run 100,000 customers (long)")
    group.add_argument("--smoke", action="store_true", help="tiny sizes: check that it runs (tests)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json", help="where to write the JSON")
    parser.add_argument("--size", type=int, metavar="CUSTOMERS",
                        help="only time one default run of the baseline at this many customers, in this process; "
                             "prints {customers, seconds, peak_mb, invoices, events} as JSON")
    parser.add_argument("--apart", action="store_true", help="with --size: the baseline without its team")
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.size:
        print(json.dumps(one_size(args.size, args.seed, args.apart)))
        return 0
    started = time.perf_counter()
    res = measure("full" if args.full else "smoke" if args.smoke else "default")
    res["bench_s"] = time.perf_counter() - started
    res["runs"]["bench_s"] = 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print(table(res))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
