# collectsim: `make demo` and `make test` are all a new machine needs (Python 3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
RESULTS := results/baseline

.PHONY: demo test bench docs constraints clean playbook notebooks app

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,notebook,dask]'
	@# JupyterLab in .venv saves widget state with a notebook (a reopened dashboard shows its last results, not
	@# "model not found") and does not look for news online.
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	cp notebooks/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/collectsim validate scenarios/baseline.toml scenarios/strategies/*.toml
	$(VENV)/bin/collectsim compare scenarios/baseline.toml --reps 10 --workers 2 --out $(RESULTS)
	@echo "Results: $(RESULTS)/ (summary.csv, differences.csv, replications.csv, comparison.json, *.png)"

# The dashboard as a web page (Voila, code hidden) on http://127.0.0.1:8866/; Ctrl-C stops it.
app: $(STAMP)
	$(VENV)/bin/collectsim app scenarios

# The test suite, then every notebook under nbval (strict: stored outputs compared after notebooks/nbval-sanitize.cfg).
test: $(STAMP)
	$(PY) -m pytest --nbval --nbval-sanitize-with notebooks/nbval-sanitize.cfg tests notebooks

# Re-execute every notebook in place (all draws seeded: the same outputs on every machine), then commit
# them, so that `make test` (nbval) checks the numbers they show against the current model.
NBEXEC := $(abspath $(VENV))/bin/jupyter nbconvert --to notebook --execute --inplace \
	--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False
# Widget state (random model ids, dashboard images), the outputs that show a widget (they name a random model
# id, and need a running kernel anyway) and cell timings are dropped: they churn on every run.
STRIP := import nbformat, sys; nb = nbformat.read(sys.argv[1], 4); nb.metadata.pop("widgets", None); \
	[c.metadata.pop("execution", None) for c in nb.cells]; \
	[c.__setitem__("outputs", [o for o in c.outputs \
	  if "application/vnd.jupyter.widget-view+json" not in o.get("data", {})]) for c in nb.cells if "outputs" in c]; \
	nbformat.write(nb, sys.argv[1])
notebooks: $(STAMP)
	cd notebooks && for nb in 0*.ipynb; do $(NBEXEC) "$$nb" && ../$(PY) -c '$(STRIP)' "$$nb" || exit 1; done
	git add notebooks/*.ipynb
	git diff --cached --quiet -- notebooks || git commit -m "Re-execute notebooks (make notebooks)" -- notebooks

# Benchmarks against references timed in the same run (a few minutes; --full adds 100,000 customers).
bench: $(STAMP)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

# Regenerate the scenario key reference from the declared settings.
docs: $(STAMP)
	$(PY) tools/reference.py > docs/scenario-keys.md

# Run the playbook's comparisons and sensitivity analysis, fill its chapters (playbook/filled/) and
# write playbook/evidence/ with its manifest. About five minutes on 2 cores; commit the result.
PLAYBOOK_REPS ?= 5
PLAYBOOK_SENS_REPS ?= 2
playbook: $(STAMP)
	$(PY) tools/playbook.py --reps $(PLAYBOOK_REPS) --sens-reps $(PLAYBOOK_SENS_REPS) --workers 2

# Re-pin tested versions after changing dependencies (then run `make test`).
constraints:
	rm -rf /tmp/collectsim-pin && $(PYTHON) -m venv /tmp/collectsim-pin
	/tmp/collectsim-pin/bin/pip install --quiet -e '.[test,notebook,dask]'
	{ echo '# Tested versions, installed with `pip install -c constraints.txt`. Regenerate with `make constraints`.'; \
	  /tmp/collectsim-pin/bin/pip freeze --exclude-editable | grep -v '^collectsim'; } > constraints.txt

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis
