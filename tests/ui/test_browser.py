"""The dashboard in a real browser: JupyterLab on 127.0.0.1, notebook 02 in headless Chromium.

Starts a local JupyterLab (token set) on a free port over a copy of the notebooks and scenarios (so
autosave never touches the committed notebooks), opens notebook 02 in Debian's Chromium driven by
Playwright (``executable_path``; nothing is downloaded), runs all cells, switches policy A to another
preset, clicks Run, waits for the results table to show the new policy, opens a figure's tab and waits
for the figure, then saves the notebook, shuts its kernel down and reloads the page (a user coming back
later): the dashboard shows its last results from the saved widget state, not "model not found". Screenshots
are saved in the test's output folder. The server is stopped by its PID. Skipped where Chromium is not installed
(`.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT

ARGS = CHROMIUM_ARGS

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(),
                                 reason="Chromium not installed (/usr/bin/chromium); .ci/run installs it with "
                                        "apt-get install chromium chromium-driver")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout} s")


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server over a copy of notebooks/ and scenarios/; yields (base_url, token)."""
    playwright = pytest.importorskip("playwright")
    del playwright
    work = tmp_path / "work"
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    shutil.copytree(ROOT / "scenarios", work / "scenarios")
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        path = tmp_path / "home" / var.lower()
        path.mkdir(parents=True)
        env[var] = str(path)
    # The settings `make` installs: widget state saved with the notebook, no news or update checks (they need
    # the network and show a toast over the page). The test checks the file the Makefile copies.
    settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "notebooks" / "jupyterlab-overrides.json", settings / "overrides.json")
    port, token = _free_port(), "collectsim-test-token"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--ServerApp.open_browser=False"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", proc)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _in_chromium(lab, tmp_path: Path, drive, prefix: str) -> None:
    """``drive(page, base, token, tmp_path)`` in headless Chromium; on failure a ``<prefix>-failure.png``; the
    ``<prefix>-*.png`` screenshots are copied to build/test-artifacts/ whatever the outcome."""
    from playwright.sync_api import sync_playwright

    base, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2600})
            drive(page, base, token, tmp_path)
        except Exception:
            page.screenshot(path=str(tmp_path / f"{prefix}-failure.png"))
            raise
        finally:
            browser.close()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for shot in tmp_path.glob(f"{prefix}-*.png"):
                shutil.copy(shot, ARTIFACTS / shot.name)


def test_dashboard_runs_and_reacts_in_chromium(lab, tmp_path):
    _in_chromium(lab, tmp_path, _drive, "dashboard")
    assert (tmp_path / "dashboard-after-change.png").stat().st_size > 10_000


def _accept_kernel_dialog(page, timeout: float) -> None:
    """JupyterLab may ask which kernel to use (the notebook names python3): accept its choice."""
    select = page.locator(".jp-Dialog button", has_text="Select")
    try:
        select.first.wait_for(timeout=timeout)
    except Exception:  # no dialog: the kernel was taken from the notebook
        return
    select.first.click()
    select.first.wait_for(state="detached", timeout=10_000)


def _run_all_cells(page, base: str, token: str, notebook: str) -> None:
    """Open ``notebooks/<notebook>`` in JupyterLab and run all its cells."""
    page.goto(f"{base}/lab/tree/notebooks/{notebook}?token={token}")
    page.locator(".jp-CodeCell").first.wait_for(timeout=120_000)
    _accept_kernel_dialog(page, 5_000)
    # The kernel must be up before Run All, or the cells are queued to nothing.
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for(timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    _accept_kernel_dialog(page, 2_000)


def _drive(page, base: str, token: str, tmp_path: Path) -> None:
    """Open notebook 02, run all cells, change policy A's preset, press Run, wait for the new results."""
    _run_all_cells(page, base, token, "02_compare_policies.ipynb")

    status = page.locator(".widget-html", has_text="Done: 2 policies")
    status.first.wait_for(timeout=120_000)
    table = page.locator(".widget-html", has_text="verdict").first
    assert "A: as-is" in table.inner_text()
    page.screenshot(path=str(tmp_path / "dashboard-first-run.png"))

    preset = page.locator(".widget-dropdown", has_text="start from").first.locator("select")
    preset.select_option(label="discount-led")
    page.locator("button.widget-button", has_text="Run").first.click()
    page.locator(".widget-html", has_text="A: discount-led").first.wait_for(timeout=120_000)
    assert "A: as-is" not in table.inner_text()
    status.first.wait_for(timeout=120_000)
    page.screenshot(path=str(tmp_path / "dashboard-after-change.png"))
    # A figure is drawn when its tab is shown.
    page.locator(".lm-TabBar-tabLabel", has_text="Cash vs relationship").first.click()
    page.wait_for_function(  # a shown image holding a real figure (the other tabs' images are hidden and empty)
        "() => [...document.querySelectorAll('img.widget-image')].some(i => i.offsetParent && i.naturalHeight > 100)",
        timeout=60_000)
    page.screenshot(path=str(tmp_path / "dashboard-figure.png"))
    _reopen_after_save(page, tmp_path)


def _reopen_after_save(page, tmp_path: Path) -> None:
    """Save, shut the kernel down and reload, as a user who comes back to the notebook later: the widgets
    show what they showed (their state is saved with the notebook), never "model not found"."""
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.title.startsWith('*') && !document.querySelector('.jp-mod-dirty')",
                           timeout=30_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Shut Down Kernel").first.click()
    page.locator(".jp-StatusBar-TextItem", has_text="No Kernel").first.wait_for(timeout=60_000)
    page.reload()
    page.locator(".jp-CodeCell").first.wait_for(timeout=120_000)
    _accept_kernel_dialog(page, 5_000)
    # The last run's status line and its figure, drawn from the saved state (no kernel is running).
    page.locator(".widget-html", has_text="Done: 2 policies").first.wait_for(timeout=60_000)
    page.screenshot(path=str(tmp_path / "dashboard-reopened.png"))
    assert page.locator("text=model not found").count() == 0


def test_a_trainee_plays_one_training_round_in_chromium(lab, tmp_path):
    """Notebook 04 in JupyterLab: the desk shows one account at a time, no answer sheet before the round ends;
    the trainee acts on every account in turn; the round ends with the total, the answer sheet and the export."""
    _in_chromium(lab, tmp_path, _play_round, "desk")


def _play_round(page, base: str, token: str, tmp_path: Path) -> None:
    _run_all_cells(page, base, token, "04_training_desk.ipynb")

    progress = page.locator(".widget-html", has_text="score so far").first
    progress.wait_for(timeout=180_000)
    total = int(progress.inner_text().split(" of ")[1].split(";")[0])
    assert total >= 2 and page.locator(".widget-html", has_text="Round over").count() == 0
    act = page.locator("button.widget-button", has_text="Act").first
    following = page.locator("button.widget-button", has_text="Next account").first
    for account in range(1, total + 1):
        page.locator(".widget-html", has_text=f"account {account} of {total}").first.wait_for(timeout=60_000)
        act.click()
        page.locator(".widget-html", has_text="How the score is made").first.wait_for(timeout=120_000)
        if account == 1:
            page.screenshot(path=str(tmp_path / "desk-first-outcome.png"))
        if account < total:
            assert page.locator(".widget-html", has_text="Round over").count() == 0  # no answers mid-round
            following.click()
    page.locator(".widget-html", has_text="Round over").first.wait_for(timeout=60_000)
    assert page.locator(f"text=over {total} accounts").count() > 0
    assert not page.locator("button.widget-button", has_text="Export choices").first.is_disabled()
    page.screenshot(path=str(tmp_path / "desk-round-over.png"))
