"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Every kind is used through the ``concurrent.futures`` interface (``submit`` and futures), and results
are filed by (policy, replication), never by arrival order, so the same job gives identical numbers
whichever executor ran it. Ctrl-C stops the job and keeps the replications that had finished.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tqdm.auto import tqdm

from collectsim.files.safe_output import interrupts_held

ExecutorSpec = cf.Executor | str | None


class WorkersFailed(RuntimeError):
    """A local worker process died or could not start, so the job cannot finish."""


_WORKERS_FAILED = ("a worker process stopped before finishing its replications: it could not start, ran out of "
                   "memory or was killed. In a script, put a call with workers=N under "
                   "`if __name__ == \"__main__\":` -- workers are spawned and import the script again (the "
                   "traceback above then shows Python's 'bootstrapping phase' error). Or run with workers=1.")


@contextlib.contextmanager
def open_executor(executor: ExecutorSpec = None, workers: int | None = None) -> Iterator[cf.Executor | None]:
    """An executor for a job, closed afterwards if this function created it.

    ``executor`` may be an Executor you manage, ``"dask"`` or ``"local"`` (a Dask LocalCluster with
    ``workers`` processes, default 2), a Dask scheduler address such as ``"tcp://host:8786"``, or None:
    then ``workers`` > 1 starts that many local processes and otherwise everything runs in this process.
    """
    if isinstance(executor, cf.Executor):
        yield executor
        return
    if isinstance(executor, str):
        with _dask_executor(executor, workers) as ex:
            yield ex
        return
    if executor is not None:
        raise TypeError(f"executor must be an Executor, 'dask', 'local', a scheduler address or None, "
                        f"not {executor!r}")
    if workers is None or workers <= 1:
        yield None
        return
    pool = spawn_pool(workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def spawn_pool(workers: int) -> cf.ProcessPoolExecutor:
    """``workers`` local processes, spawned (not forked): safe alongside threads such as the progress bar's.

    The workers ignore Ctrl-C (the terminal sends it to every process of the job): the parent decides what
    stops, so a worker never prints a traceback of its own. They are started here, with Ctrl-C ignored for
    the moment it takes, so that they inherit that from their first instruction.
    """
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_ignore_sigint)
    try:
        with _sigint_ignored():
            for _ in range(workers):
                pool.submit(_nothing)  # each submit to a pool without an idle worker starts one
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    return pool


# Ctrl-C ignored while a block starts processes, which inherit that (only from the main thread).
_sigint_ignored = interrupts_held


def _nothing() -> None:
    """A task that does nothing (starts a worker)."""


#: Pools kept for the life of this process, by size (see :func:`shared_pool`).
_POOLS: dict[int, cf.ProcessPoolExecutor] = {}


def shared_pool(workers: int, warm_up: Callable[[], object] | None = None) -> cf.ProcessPoolExecutor:
    """This process's pool of ``workers`` spawned processes, started on first use and kept until
    :func:`stop_shared_pool` (the dashboard's: re-running the notebook cell that makes a dashboard reuses
    the running workers). A new pool is sent ``warm_up`` once per worker, e.g. to import the engines before
    the first real task."""
    pool = _POOLS.get(workers)
    if pool is None:
        pool = _POOLS[workers] = spawn_pool(workers)
        if warm_up is not None:
            for _ in range(workers):
                pool.submit(warm_up)
    return pool


def stop_shared_pool(workers: int) -> None:
    """Shut down the shared pool of ``workers`` processes, if there is one (the next use starts a new one)."""
    pool = _POOLS.pop(workers, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def _dask_executor(address: str, workers: int | None) -> Iterator[cf.Executor]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError("Dask is not installed: pip install 'collectsim[dask]'") from None
    cluster = None
    if address in ("dask", "local"):
        with _sigint_ignored():  # the workers start ignoring Ctrl-C, as local pools' do (see spawn_pool)
            cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.CRITICAL)
        client = Client(cluster)
    else:
        client = Client(address)
    # A task's failure reaches us as its future's exception. What Dask and its event loop log besides is, for a
    # job cut short by Ctrl-C, a wall of complaints about cancelled work (which goes on arriving after close()
    # returns): their loggers stay quiet from here on in this process (set after the cluster, which sets its own).
    for name in ("distributed", "tornado", "tornado.application"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_all(fn: Callable[[Any], Any], tasks: Sequence[Any], executor: cf.Executor | None,
            on_result: Callable[[Any, Any], None], progress: bool = True, description: str = "",
            runs_in: Callable[[Any], int] = lambda task: 1) -> bool:
    """Run ``fn`` on every task, handing each (task, result) to ``on_result``.

    Returns True if the job was interrupted (Ctrl-C); the results handed over until then stand.
    A progress bar appears on stderr when the job runs longer than about a second (notebook-aware);
    it counts runs, ``runs_in(task)`` of them per task (a batch holds several).
    """
    bar = tqdm(total=sum(runs_in(t) for t in tasks), desc=description, unit="run", delay=1.0,
               disable=not progress, file=sys.stderr, leave=False)
    futures: dict[cf.Future, Any] = {}
    try:
        if executor is None:
            for task in tasks:
                on_result(task, fn(task))
                bar.update(runs_in(task))
        else:
            futures = {executor.submit(fn, task): task for task in tasks}
            for future in cf.as_completed(futures):
                on_result(futures[future], future.result())
                bar.update(runs_in(futures[future]))
        return False
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        return True  # local workers (which ignore Ctrl-C) finish the replication in hand and stop
    except BrokenProcessPool as exc:
        raise WorkersFailed(_WORKERS_FAILED) from exc
    finally:
        bar.close()
