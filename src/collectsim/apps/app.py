"""``collectsim app``: the dashboard as a web page, served by Voila with the code hidden.

A finance manager opens the printed address in a browser and sees the levers and the results, not a
notebook. Voila runs :file:`app.ipynb` (shipped in the package) in a fresh kernel for each page load, one
kernel ahead (pre-heated); the scenario folder reaches that kernel through the ``COLLECTSIM_SCENARIOS``
environment variable. The server
listens on 127.0.0.1 only: it runs simulations for whoever can reach it.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from collectsim.config.schema import ScenarioError

#: The notebook Voila serves.
APP_NOTEBOOK = Path(str(importlib.resources.files("collectsim") / "apps" / "app.ipynb"))


def scenario_folder(folder: str | Path) -> Path:
    """``folder`` as an absolute path, checked to hold at least one scenario file (``*.toml``)."""
    path = Path(folder).resolve()
    if not path.is_dir():
        raise ScenarioError("FOLDER", "", str(folder), "not a folder; give the folder of your scenario files")
    if not any(p.is_file() for p in path.glob("*.toml")):
        raise ScenarioError("FOLDER", "", str(folder), "holds no scenario file (*.toml)")
    return path


def voila_command(port: int) -> list[str]:
    """The command that serves the app notebook on 127.0.0.1:``port`` without opening a browser.

    One kernel is kept pre-heated: Voila runs the notebook (the first comparison included) before a page
    asks for it, so a manager who opens the page sees results in seconds, not after a kernel start and a
    simulation; when a page takes that kernel the next one starts in the background.
    """
    return [sys.executable, "-m", "voila", str(APP_NOTEBOOK), f"--port={port}", "--no-browser",
            "--Voila.ip=127.0.0.1", "--show_tracebacks=False", "--preheat_kernel=True", "--pool_size=1"]


def serve(folder: str | Path, port: int = 8866) -> int:
    """Serve the dashboard for the scenarios in ``folder`` until Ctrl-C; the exit code."""
    scenarios = scenario_folder(folder)
    if importlib.util.find_spec("voila") is None:
        print("error: voila is missing: install the notebook extra (pip install -e '.[notebook]')", file=sys.stderr)
        return 1
    env = {**os.environ, "COLLECTSIM_SCENARIOS": str(scenarios)}
    print(f"collectsim app: open http://127.0.0.1:{port}/ in a browser (scenarios from {scenarios}); "
          f"Ctrl-C stops it", flush=True)
    server = subprocess.Popen(voila_command(port), env=env)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        return 0
