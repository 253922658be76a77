"""`collectsim report`: the report notebook executed with papermill, rendered to HTML with code hidden."""

import json
import re
import shutil

import pytest

pytest.importorskip("papermill")
pytest.importorskip("nbconvert")

import zmq  # noqa: E402

from collectsim.apps.cli import main  # noqa: E402
from collectsim.present.report import NOTEBOOK, ReportError, offline, render_report  # noqa: E402
from helpers import ROOT

BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(autouse=True)
def _jupyter_home(tmp_path, monkeypatch):
    """Keep Jupyter, IPython and matplotlib out of the user's home directory."""
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        path = tmp_path / "home" / var.lower()
        path.mkdir(parents=True)
        monkeypatch.setenv(var, str(path))


def test_report_html_has_the_narrative_tables_and_figures_and_no_code_or_errors(tmp_path, capfd):
    out = tmp_path / "report.html"
    code = main(["report", str(BASELINE), "--policies", "as-is,flexible-plans", "--reps", "3",
                 "--customers", "60", "--out", str(out)])
    err = capfd.readouterr().err  # capfd: the kernel is a subprocess writing to the inherited stderr
    assert code == 0, err
    if zmq.has("curve"):  # the link to the kernel is encrypted, so ipykernel has no warning to print
        assert "without encryption" not in err and "WARNING" not in err, err
    html = out.read_text(encoding="utf-8")
    assert "as-is versus flexible-plans" in html
    assert "<title>baseline: as-is versus flexible-plans</title>" in html
    # Nothing is fetched from the internet: the page reads the same offline.
    assert not re.search(r"""(src=|href=|from\s*|import\()["']?https?://""", html)
    # One verdict sentence per headline metric, whichever way the numbers fall.
    verdicts = re.findall(r"as-is (?:collects|has) [^<]*flexible-plans|no significant difference in [^<]*", html)
    assert len(verdicts) >= 7
    assert "Bottom line." in html and "Trade-offs." in html
    assert html.index("Bottom line.") < html.index("How to read this.")  # the conclusion leads
    assert "Recommendation." in html and html.index("Recommendation.") < html.index("Bottom line.")  # led by it
    assert html.count("<table") >= 2 and "95% CI</th>" in html and "<th>net value</th>" in html
    assert "Where the net value difference comes from" in html and "<th>cost of goods</th>" in html
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', html)) >= 4
    # Every figure says in words what it shows (the plot's own description), for screen readers.
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert len(alts) == len(re.findall(r"<img ", html))
    described = [a for a in alts if a.endswith("Policies: as-is, flexible-plans; portfolio: baseline.")]
    assert len(described) >= 4
    assert any(a.startswith("Cash collected since the measured period began") for a in described)
    assert "All checks passed on 3 replications" in html
    assert "import collectsim" not in html and "Traceback" not in html
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html and "output_error" not in html


def test_bad_policy_name_is_one_line_before_any_kernel_starts(tmp_path, capsys):
    code = main(["report", str(BASELINE), "--policies", "as-is,nope", "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and "nope" in err and "no such policy" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_a_failing_check_stops_the_report(tmp_path):
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "report_problems(comp)" in "".join(cell["source"]):
            cell["source"] = ["problems = ['invented problem']\n", "assert not problems, problems\n"]
    broken = tmp_path / "05_policy_report.ipynb"
    broken.write_text(json.dumps(nb), encoding="utf-8")
    shutil.copytree(ROOT / "scenarios", tmp_path.parent / "scenarios", dirs_exist_ok=True)
    with pytest.raises(ReportError, match="AssertionError"):
        render_report(BASELINE, ["as-is", "firm-and-fair"], tmp_path / "r.html", reps=2, customers=30,
                      notebook=broken)
    assert not (tmp_path / "r.html").exists()


def test_offline_drops_remote_scripts_and_keeps_local_ones():
    page = ('<script src="https://cdn.example/require.js"></script><script>var x = 1;</script>'
            '<script type="module">import m from "https://cdn.example/m.mjs"; m();</script>')
    assert offline(page) == "<script>var x = 1;</script>"
