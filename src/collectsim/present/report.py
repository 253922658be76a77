"""The policy report: the report notebook executed with papermill and rendered to HTML, code hidden.

``collectsim report SCENARIO --policies A,B --out report.html`` fills the notebook's ``parameters``
cell, runs every cell in a fresh kernel (so the assertion cells at the end can stop a wrong report),
and converts the executed notebook to a self-contained HTML page (figures embedded) with the code
left out, for readers who want the narrative, the tables and the figures.
"""

from __future__ import annotations

import html
import importlib.resources
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from collectsim.config.scenario import load_scenario
from collectsim.config.schema import ScenarioError
from collectsim.experiments.capacity import check_memory
from collectsim.files.safe_output import check_file, write_text

#: The report notebook, in the repository's notebooks/ folder.
# The report notebook ships inside the package (a link to notebooks/05_policy_report.ipynb in the repository,
# copied into the wheel), so an installed collectsim reports without the repository.
NOTEBOOK = Path(str(importlib.resources.files("collectsim") / "report_notebook.ipynb"))


class ReportError(RuntimeError):
    """The report could not be produced (a cell failed, or a tool is missing); the message says which."""


def render_report(scenario: str | Path, policies: Sequence[str], out: str | Path, reps: int = 10,
                  seed: int | None = None, customers: int | None = None, notebook: str | Path = NOTEBOOK,
                  executed: str | Path | None = None) -> Path:
    """Execute the report notebook for ``policies`` on ``scenario`` and write HTML (code hidden) to ``out``.

    ``customers`` resizes the portfolio (None: as in the file). ``executed`` also keeps the executed
    notebook. Raises ScenarioError for a bad scenario or policy name before any kernel starts.
    """
    out = check_file(out)
    if executed:
        check_file(executed, "--notebook")
    scenario = Path(scenario).resolve()
    loaded = load_scenario(scenario)  # bad files fail here, with the usual one-line error
    if len(policies) != 2:
        raise ScenarioError("--policies", "", ",".join(policies), "name exactly two policies, as A,B")
    for name in policies:
        loaded.policy(name)
    if customers is not None:
        loaded = loaded.resized(customers)
    from collectsim.experiments.replication import BATCH_CUSTOMER_RUNS, BATCH_RUNS
    # The notebook compares in its kernel, one batch (of both policies' replications) at a time.
    check_memory(loaded, max(1, min(BATCH_RUNS, 2 * int(reps), BATCH_CUSTOMER_RUNS // loaded.portfolio.customer_count)))
    notebook = Path(notebook)
    if not notebook.is_file():
        raise ReportError(f"report notebook not found: {notebook} (run from a checkout of collectsim)")
    try:
        import papermill as pm
        from nbconvert import HTMLExporter
        manager = _encrypted_kernel_manager()
    except ImportError as exc:
        raise ReportError(f"{exc.name} is missing: install the notebook extra (pip install -e '.[notebook]')") \
            from None
    params = {"scenario": str(scenario), "policies": ",".join(policies), "reps": int(reps),
              "seed": seed, "customers": customers}
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(executed) if executed else Path(tmp) / "report.ipynb"
        try:
            nb = pm.execute_notebook(str(notebook), str(target), parameters=params, cwd=str(notebook.parent),
                                     progress_bar=False, log_output=False, kernel_name="python3",
                                     kernel_manager_class=manager)
        except pm.PapermillExecutionError as exc:
            raise ReportError(f"report notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}") from None
    _images_with_alt_text(nb)
    _escape_markdown_outputs(nb)
    exporter = HTMLExporter()
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    title = f"{loaded.name}: {policies[0]} versus {policies[1]}"
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return write_text(out, offline(body))


#: A script element that loads or imports anything from the internet (nbconvert's page links require.js,
#: MathJax and mermaid from a CDN; the report needs none of them).
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*>(?:(?!</script>).)*?</script>", re.S | re.I)


def offline(page: str) -> str:
    """The HTML page without the scripts it would fetch from the internet, so it reads the same offline."""
    return _REMOTE_SCRIPT.sub(lambda m: "" if re.search(r"(?:src=|from\s*|import\()[\"']?https?://", m.group(0))
                              else m.group(0), page)


def _encrypted_kernel_manager() -> type:
    """A kernel manager that encrypts the link to the report's kernel (CurveZMQ) where pyzmq and the kernel
    support it, as ipykernel asks; elsewhere the plain local TCP link, as before (and ipykernel's warning)."""
    import zmq
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    policy = "auto" if zmq.has("curve") else "disabled"

    class EncryptedKernelManager(AsyncKernelManager):
        @default("transport_encryption")
        def _transport_encryption_default(self) -> str:
            return policy

    return EncryptedKernelManager


def _images_with_alt_text(nb) -> None:
    """Give each PNG output that carries an ``alt`` (``IPython.display.Image(..., alt=...)``) an HTML ``<img>``
    with that alt text, in place: nbconvert's HTML template drops the alt and fills in a placeholder."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data, meta = output.get("data", {}), output.get("metadata", {})
            alt = meta.get("image/png", {}).get("alt")
            if "image/png" in data and alt:
                png = data.pop("image/png").strip()
                data["text/html"] = f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'


def _escape_markdown_outputs(nb) -> None:
    """HTML-escape the Markdown the report's cells print, in place.

    Those outputs are sentences and headings built from names out of the user's files (scenario, policies,
    segments); the notebook writes no HTML in them, so escaping the whole text keeps Markdown's formatting
    while a name such as ``<script>`` shows as text instead of becoming a live tag in the page.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                text = data["text/markdown"]
                text = "".join(text) if isinstance(text, list) else text
                data["text/markdown"] = html.escape(text, quote=False)
