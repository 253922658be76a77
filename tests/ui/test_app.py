"""``collectsim app``: the dashboard served by Voila on 127.0.0.1, code hidden; a bad folder is one line."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from collectsim.apps.cli import main
from helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, SCENARIOS

pytest.importorskip("voila")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _home(tmp_path) -> dict:
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        path = tmp_path / "home" / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    return env


def start_app(tmp_path, port: int) -> subprocess.Popen:
    """``collectsim app`` on ``port`` from an unrelated folder, its output in tmp_path/app.log."""
    log = open(tmp_path / "app.log", "w")
    return subprocess.Popen([sys.executable, "-m", "collectsim", "app", str(SCENARIOS), "--port", str(port)],
                            cwd=tmp_path, env=_home(tmp_path), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_app(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def fetch(url: str, proc: subprocess.Popen, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"collectsim app exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=120) as reply:
                return reply.read().decode("utf-8", errors="replace")
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"no page at {url} within {timeout} s")


def test_the_app_serves_the_dashboard_without_code(tmp_path):
    port = _free_port()
    proc = start_app(tmp_path, port)
    try:
        page = fetch(f"http://127.0.0.1:{port}/", proc)
    finally:
        stop_app(proc)
    said = (tmp_path / "app.log").read_text()
    assert f"http://127.0.0.1:{port}/" in said.splitlines()[0]
    assert "application/vnd.jupyter.widget-view+json" in page  # the dashboard, drawn by the browser
    assert "Traceback" not in page and "output_error" not in page
    assert "from collectsim.apps.dashboard import" not in page  # no code shown


def test_a_folder_without_scenarios_is_one_line(tmp_path, capsys):
    assert main(["app", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no scenario file" in err


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not installed (/usr/bin/chromium)")
def test_the_app_in_a_browser_shows_results_and_reruns_after_a_change(tmp_path):
    """Open the page, see the first results and their cards, switch policy A's preset, see the out-of-date
    mark, press Run, see the cards change. Screenshots are kept in build/test-artifacts/ (README shows one)."""
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    port = _free_port()
    proc = start_app(tmp_path, port)
    try:
        fetch(f"http://127.0.0.1:{port}/voila/static/favicon.ico", proc)  # the server is up (no kernel started)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 2200})
            try:
                page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
                # The first results are in the page itself (a preview), before the widgets are drawn.
                preview = page.locator(".collectsim-preview .collectsim-cards")
                preview.wait_for(state="attached", timeout=180_000)  # hidden again once the widgets are drawn
                assert preview.count() == 1 and "Net value" in preview.text_content()
                status = page.locator(".widget-html", has_text="Done: 2 policies")
                status.first.wait_for(timeout=180_000)
                cards = page.locator(".collectsim-cards:visible")
                cards.first.wait_for(timeout=30_000)
                assert cards.count() == 1 and not preview.is_visible()  # the widgets' cards replaced the preview
                first_cards = cards.first.inner_text()
                assert "Net value" in first_cards and "A = A: as-is" in first_cards
                page.screenshot(path=str(tmp_path / "app-first-result.png"))
                preset = page.locator(".widget-dropdown", has_text="start from").first.locator("select")
                preset.select_option(label="discount-led")
                page.locator(".collectsim-out-of-date").first.wait_for(timeout=30_000)  # marked at once
                page.screenshot(path=str(tmp_path / "app-out-of-date.png"))
                page.locator("button.widget-button", has_text="Run").first.click()
                changed = page.locator(".collectsim-cards:visible", has_text="A = A: discount-led")
                changed.first.wait_for(timeout=120_000)
                assert page.locator(".collectsim-out-of-date").count() == 0
                assert page.locator(".collectsim-cards:visible").first.inner_text() != first_cards
                page.screenshot(path=str(tmp_path / "app-after-change.png"))
                assert page.locator("text=import collectsim").count() == 0
            except Exception:
                page.screenshot(path=str(tmp_path / "app-failure.png"))
                raise
            finally:
                browser.close()
    finally:
        stop_app(proc)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("app-*.png"):
            shutil.copy(shot, ARTIFACTS / shot.name)
