"""How long a manager waits for the app's first results: page load to the first headline cards.

``collectsim app`` keeps one kernel pre-heated (Voila runs the dashboard notebook, including its first
comparison, before anyone asks), so "warm kernel" means: the server has been up long enough to fill its
pool. This starts the app on a free port, loads the page once (that page takes the pre-heated kernel,
and the server starts the next one), waits for the pool to refill, then times ``runs`` page loads in
headless Chromium, each from ``page.goto`` until the first card is on screen (the page's own preview of
the first results), and until the first lever (widget) is drawn, with a refill between. The pool has
refilled when the app's processes (the server, its kernels and their workers) have used no CPU for a few
seconds: the next kernel has then run the notebook, its first comparison included.

Needs Playwright and Debian's Chromium (as the browser tests do); without them it says why and returns None.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: The pool counts as refilled once the app's processes have been this many seconds without using CPU...
QUIET_S = 5.0
#: ...and no sooner than this after the previous page load (Voila starts the next kernel after a short delay);
#: at the latest after REFILL_MAX_S (the kernel starts, imports the model and runs the first comparison in
#: 10-30 s on 2 busy cores; a fixed pause of 45 s was used before, 4 x 45 s of a --full benchmark's time).
REFILL_MIN_S, REFILL_MAX_S = 10.0, 120.0
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by process ``root`` and its descendants now alive (Linux ``/proc``)."""
    parent, used = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = text[text.rindex(")") + 2:].split()
        pid = int(stat.parent.name)
        parent[pid], used[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK
    total, todo = 0.0, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo.extend(children.get(pid, ()))
    return total


def wait_for_refill(root: int) -> float:
    """Wait until the app's processes have been quiet for QUIET_S seconds (see REFILL_MIN_S, REFILL_MAX_S);
    the seconds waited."""
    started = time.perf_counter()
    last, quiet_since = tree_cpu_seconds(root), time.perf_counter()
    while time.perf_counter() - started < REFILL_MAX_S:
        time.sleep(0.5)
        now, used = time.perf_counter(), tree_cpu_seconds(root)
        if used - last > 0.05:
            quiet_since = now
        last = used
        if now - quiet_since >= QUIET_S and now - started >= REFILL_MIN_S:
            break
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_result_seconds(scenarios: Path, runs: int = 3,
                         log: Path | None = None) -> tuple[float | None, float | None, str]:
    """The median seconds from page load to the first headline card on screen, the median seconds until the
    levers are live too (the first widget drawn), and a note saying how they were measured."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, None, "not measured: Playwright is not installed (pip install -e '.[notebook,test]')"
    if not CHROMIUM.exists():
        return None, None, f"not measured: no Chromium at {CHROMIUM} (apt-get install chromium)"
    port = _free_port()
    out = open(log or os.devnull, "w")
    proc = subprocess.Popen([sys.executable, "-m", "collectsim", "app", str(scenarios), "--port", str(port)],
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    times, live, waits = [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for i in range(runs + 1):
                    waits.append(wait_for_refill(proc.pid))
                    page = browser.new_page(viewport={"width": 1500, "height": 2200})
                    started = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/", timeout=300_000)
                    page.locator(".collectsim-card:visible").first.wait_for(timeout=300_000)
                    shown = time.perf_counter() - started
                    page.locator(".widget-dropdown").first.wait_for(timeout=300_000)
                    if i:  # the first load only proves the server is up and lets it pre-heat the next kernel
                        times.append(shown)
                        live.append(time.perf_counter() - started)
                    page.close()
            finally:
                browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.close()
    return statistics.median(times), statistics.median(live), (
        f"collectsim app (Voila, one pre-heated kernel) in headless Chromium: page.goto until the first headline "
        f"card is visible (the page carries the first results as plain HTML, drawn before the widgets), "
        f"once the app's processes had used no CPU for {QUIET_S:g} s after the previous page took the pre-heated "
        f"kernel (waits {', '.join(f'{w:.0f}' for w in waits)} s); median of {runs} (one page load before them is "
        f"not timed); target 3 s. app_levers_live_s: until the first lever (widget) is drawn too")
