"""``pip install .`` (not editable) gives a collectsim that works from any folder on files given by path.

The wheel is built from this checkout and installed into a folder of its own; the commands then run from an
empty temporary folder, with that folder first on the path, so nothing can come from the source tree. The
dependencies are those of the test environment (installing them again would only test pip); the build
backend (setuptools) is fetched into an isolated build environment, as `pip install .` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A folder holding collectsim installed from a wheel of this checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a clean copy: a build/ folder left in the checkout would leak into the wheel
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    (source / "notebooks").mkdir()  # the package's report notebook is a link to it
    shutil.copy(ROOT / "notebooks" / "05_policy_report.ipynb", source / "notebooks")
    shutil.copytree(ROOT / "src", source / "src", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(work / "dist"), str(source)], check=True, capture_output=True, text=True)
    wheel = next((work / "dist").glob("collectsim-*.whl"))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, text=True)
    return target


def _run(installed: Path, cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, "-m", "collectsim", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_installed_package_is_the_one_that_runs(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    out = subprocess.run([sys.executable, "-c", "import collectsim; print(collectsim.__file__)"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()).is_relative_to(installed)
    assert not (installed / "collectsim" / "playbook.py").exists()  # build tools stay in the repository
    assert (installed / "collectsim" / "templates" / "firm.txt").is_file()
    assert (installed / "collectsim" / "report_notebook.ipynb").is_file()


def test_run_compare_calibrate_and_report_from_another_folder(installed, tmp_path):
    scenario = str(ROOT / "scenarios" / "baseline.toml")
    done = _run(installed, tmp_path, "validate", scenario)
    assert done.returncode == 0, done.stderr
    done = _run(installed, tmp_path, "run", scenario, "--policy", "firm-and-fair", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["metrics"]["cash_collected"] > 0
    done = _run(installed, tmp_path, "compare", scenario, "--reps", "2", "--out", "cmp")
    assert done.returncode == 0, done.stderr
    assert {"summary.csv", "differences.csv", "comparison.json", "cash_curve.png"} <= {
        p.name for p in (tmp_path / "cmp").iterdir()}
    done = _run(installed, tmp_path, "calibrate", str(ROOT / "examples" / "sample_ledger.csv"), "--out", "mine.toml")
    assert done.returncode == 0, done.stderr
    done = _run(installed, tmp_path, "validate", "mine.toml")
    assert done.returncode == 0, done.stderr
    done = _run(installed, tmp_path, "report", scenario, "--policies", "as-is,firm-and-fair", "--reps", "2",
                "--customers", "60", "--out", "report.html")
    assert done.returncode == 0, done.stderr
    assert "firm-and-fair" in (tmp_path / "report.html").read_text(encoding="utf-8")
