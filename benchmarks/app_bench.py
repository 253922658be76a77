"""How long a manager waits for the app's first results: page load to the first headline cards.

``collectsim app`` keeps one kernel pre-heated (Voila runs the dashboard notebook, including its first
comparison, before anyone asks), so "warm kernel" means: the server has been up long enough to fill its
pool. This starts the app on a free port, loads the page once (that page takes the pre-heated kernel,
and the server starts the next one), waits for the pool to refill, then times ``runs`` page loads in
headless Chromium, each from ``page.goto`` until the first card is on screen (the page's own preview of
the first results), and until the first lever (widget) is drawn, with a refill pause between.

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
#: Seconds after a page took the pre-heated kernel before the next one is ready (measured: the kernel starts,
#: imports the model and runs the first comparison in 10-30 s on 2 busy cores).
REFILL_S = 45


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
    times, live = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for i in range(runs + 1):
                    time.sleep(REFILL_S)
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
        f"{REFILL_S} s after the previous page took the pre-heated kernel; median of {runs} (one page load before "
        f"them is not timed); target 3 s. app_levers_live_s: until the first lever (widget) is drawn too")
