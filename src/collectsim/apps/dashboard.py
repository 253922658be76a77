"""A dashboard for comparing two collections policies side by side, in JupyterLab.

Think of two copies of the same credit-control rule book on a desk, each with its own pencilled
changes: the dashboard runs both on the same simulated customers (common random numbers) and shows
what the changes do to cash, days sales outstanding, bad debt, cost and the customer relationship.

Each side starts from a policy of the scenario (its "preset") and exposes the levers a finance
manager changes most: the reminder ladder (day, channel, tone of each step), the early-payment
discount, instalment plans, escalation to an agency or the courts, the write-off age, and whether
statutory interest and compensation are claimed. The levers sit in a side panel (the two policies
on tabs) beside the results, which lead with the recommendation and headline cards. Nothing runs until
Run is pressed; sliders do not update continuously; once a lever changes after a run, the results on show
are greyed out and marked out of date until Run is pressed again, and a policy whose levers differ from
its preset is named "<preset> (edited)".

To keep an update within a second or two on a two-core laptop, the dashboard runs a resized copy of
the scenario (:func:`resize`): fewer customers (segments scaled in proportion) and a shorter run-off.
It also keeps the replications of the last few runs: a side whose policy, portfolio and seed have not
changed since is not run again, and more replications only run the new ones. It simulates on two
worker processes (started in the background when the first dashboard is made, shared by later ones), which
about halves an update on two cores, and draws a figure only when its tab is shown. The numbers are the
same as a fresh run's in one process, since replication j always uses the same seed. The notebooks
and the CLI use the full scenario for reports.

The logic is plain Python: set a control's ``value`` and call :meth:`Dashboard.run` (or click the
button), and the comparison and every output widget are recomputed. Tests do exactly that.
"""

from __future__ import annotations

import concurrent.futures as cf
import html
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import IPython.display
import ipywidgets as w
import pandas as pd

from collectsim.config.policy_spec import CHANNELS, TONES, PolicySpec
from collectsim.config.scenario import Scenario, load_scenario
from collectsim.config.schema import ScenarioError
from collectsim.engines.compiled_engine import warm_up_in_background
from collectsim.experiments.compare import Comparison
from collectsim.experiments.executors import WorkersFailed, run_all, shared_pool, stop_shared_pool
from collectsim.experiments.replication import Replication, run_unit, runs_in, warm_up, work_units
from collectsim.model.draws import derive_seed
from collectsim.present import plots
from collectsim.present.cards import headline_cards
from collectsim.present.narrative import differences_table, net_value_table
from collectsim.present.run_plots import figure_png
from collectsim.results.metric_info import HEADLINE

#: Default size of a dashboard run: an update takes under half a second on two cores (measured in README).
DEFAULT_CUSTOMERS = 60
DEFAULT_REPS = 5
DEFAULT_RUNOFF_DAYS = 365
DEFAULT_WARMUP_DAYS = 90
STEP_SLOTS = 6
#: The class of the app's first-results preview (hidden once the dashboard's widgets are drawn).
PREVIEW_CLASS = "collectsim-preview"
#: How many (portfolio, policy, seed) combinations keep their replications for reuse (the newest are kept).
CACHED_SIDES = 4
#: Worker processes the dashboard simulates on by default (two policy sides; more cores rarely help).
DEFAULT_WORKERS = max(1, min(2, os.cpu_count() or 1))

#: The figure tabs: name -> (tab title, plot of a comparison).
FIGURES = plots.COMPARISON_FIGURES



def scenario_files(directory: str | Path) -> list[Path]:
    """Scenario files (not strategy files) directly in ``directory``, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"scenario folder not found: {directory}")
    return sorted(p for p in directory.glob("*.toml") if p.is_file())


def resize(scenario: Scenario, customers: int | None = None, warmup_days: int | None = None,
           runoff_days: int | None = None) -> Scenario:
    """A copy of ``scenario`` with ``customers`` customers (segments kept in proportion, see
    :meth:`Scenario.resized`) and new warm-up and run-off lengths. The measured period is never changed."""
    if customers is not None:
        scenario = scenario.resized(customers)
    horizon = {f"horizon.{key}": int(days) for key, days in (("warmup_days", warmup_days),
                                                              ("runoff_days", runoff_days)) if days is not None}
    return scenario.with_values(horizon, "resized") if horizon else scenario


def comparison_table(comp: Comparison, metrics: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """Paired differences of the headline metrics, first policy minus second, with verdicts."""
    diffs = comp.differences()
    diffs = diffs[diffs["metric"].isin(metrics)].copy()
    diffs["_order"] = diffs["metric"].map({m: i for i, m in enumerate(metrics)})
    diffs = diffs.sort_values("_order").drop(columns="_order")
    means = comp.summary().pivot_table(index="metric", columns="policy", values="mean", sort=False)
    for p in comp.policies:
        diffs.insert(3 + comp.policies.index(p), f"mean {p}", diffs["metric"].map(means[p]))
    return diffs.reset_index(drop=True)


# --- kept replications ------------------------------------------------------------------------------------


def _keep_prefix(runs: dict[int, Replication]) -> None:
    """Drop kept replications after the first gap (left by a run cut short), so the kept ones are 0..k-1."""
    k = 0
    while k in runs:
        k += 1
    for j in [j for j in runs if j > k]:
        del runs[j]


# --- one side: a policy's controls ------------------------------------------------------------------------


def _checkbox(description: str) -> w.Checkbox:
    return w.Checkbox(description=description, indent=False, layout=w.Layout(width="auto"))


def _slider(cls, description: str, **kw) -> w.Widget:
    style = {"description_width": "190px"}
    return cls(description=description, continuous_update=False, style=style,
               layout=w.Layout(width="430px"), **kw)


class StepRow:
    """One reminder step: on/off, day from the due date, channel, tone."""

    def __init__(self) -> None:
        self.on = w.Checkbox(value=False, description="", indent=False, layout=w.Layout(width="28px"))
        self.offset = w.BoundedIntText(value=0, min=-60, max=730, description="day", layout=w.Layout(width="130px"),
                                       style={"description_width": "30px"})
        self.channel = w.Dropdown(options=CHANNELS, value="email", layout=w.Layout(width="90px"))
        self.tone = w.Dropdown(options=TONES, value="friendly", layout=w.Layout(width="95px"))
        self.box = w.HBox([self.on, self.offset, self.channel, self.tone])


class PolicyPanel:
    """The controls of one policy. ``spec()`` is the policy they describe, validated."""

    def __init__(self, label: str, scenario: Scenario, preset: str) -> None:
        self.label = label
        self.preset = w.Dropdown(options=[p.name for p in scenario.policies], value=preset,
                                 description="start from", style={"description_width": "80px"})
        self.steps = [StepRow() for _ in range(STEP_SLOTS)]
        self.pause_on_dispute = _checkbox("pause reminders while a dispute is open")
        self.discount_rate = _slider(w.FloatSlider, "early-payment discount", min=0.0, max=0.2, step=0.0025,
                                     readout_format=".2%")
        self.discount_window = _slider(w.IntSlider, "discount window (days)", min=0, max=120)
        self.plan_offer = _checkbox("offer instalment plans")
        self.plan_after = _slider(w.IntSlider, "plan offered at (days late)", min=0, max=365)
        self.plan_instalments = _slider(w.IntSlider, "instalments", min=1, max=24)
        self.plan_tolerance = _slider(w.IntSlider, "missed instalments tolerated", min=0, max=12)
        self.agency = _checkbox("hand to a collection agency")
        self.agency_after = _slider(w.IntSlider, "agency at (days late)", min=0, max=3650)
        self.legal = _checkbox("take legal action")
        self.legal_after = _slider(w.IntSlider, "legal action at (days late)", min=0, max=3650)
        self.write_off = _slider(w.IntSlider, "write off at (days late)", min=1, max=3650)
        self.fees = _checkbox("claim statutory interest and compensation")
        self._specs = {p.name: p for p in scenario.policies}
        self.preset.observe(lambda change: self.load(self._specs[change["new"]]), names="value")
        self.load(self._specs[preset])

    def set_scenario(self, scenario: Scenario) -> None:
        """Offer another scenario's policies as presets (keeps the current one when it exists)."""
        self._specs = {p.name: p for p in scenario.policies}
        current = self.preset.value
        self.preset.options = list(self._specs)
        self.preset.value = current if current in self._specs else next(iter(self._specs))
        self.load(self._specs[self.preset.value])

    def load(self, spec: PolicySpec) -> None:
        """Show ``spec``'s levers in the controls (their ranges are the schema's, so nothing is clipped)."""
        self.base = spec
        if len(spec.reminders.steps) > STEP_SLOTS:
            raise ValueError(f"policy {spec.name!r} has {len(spec.reminders.steps)} reminder steps; "
                             f"the dashboard shows at most {STEP_SLOTS}")
        for i, row in enumerate(self.steps):
            step = spec.reminders.steps[i] if i < len(spec.reminders.steps) else None
            row.on.value = step is not None
            if step is not None:
                row.offset.value, row.channel.value, row.tone.value = step.offset, step.channel, step.tone
            else:  # an unticked row is blank, not the previous preset's step
                row.offset.value, row.channel.value, row.tone.value = 0, "email", "friendly"
        self.pause_on_dispute.value = spec.reminders.pause_on_dispute
        self.discount_rate.value, self.discount_window.value = spec.discount.rate, spec.discount.window_days
        p = spec.plans
        self.plan_offer.value, self.plan_after.value = p.offer, p.after_days_overdue
        self.plan_instalments.value, self.plan_tolerance.value = p.instalments, p.missed_tolerance
        e = spec.escalation
        self.agency.value, self.agency_after.value = e.agency, e.agency_after_days_overdue
        self.legal.value, self.legal_after.value = e.legal, e.legal_after_days_overdue
        self.write_off.value = spec.write_off.age_days
        self.fees.value = spec.fees.enforce
        self._as_loaded = self._levers()

    @property
    def edited(self) -> bool:
        """Whether any lever differs from the preset as loaded."""
        return self._levers() != self._as_loaded

    @property
    def controls(self) -> list[w.Widget]:
        """Every control whose value shapes the policy (for noticing a change)."""
        rows = [c for r in self.steps for c in (r.on, r.offset, r.channel, r.tone)]
        return [self.preset, *rows, self.pause_on_dispute, self.discount_rate, self.discount_window,
                self.plan_offer, self.plan_after, self.plan_instalments, self.plan_tolerance, self.agency,
                self.agency_after, self.legal, self.legal_after, self.write_off, self.fees]

    def values(self) -> dict:
        """The controls as dotted policy keys; the name says "(edited)" once a lever differs from the preset."""
        return {"name": f"{self.label}: {self.preset.value}" + (" (edited)" if self.edited else ""),
                **self._levers()}

    def _levers(self) -> dict:
        steps = sorted((r.offset.value, r.channel.value, r.tone.value) for r in self.steps if r.on.value)
        return {
            "reminders.steps": [{"offset": o, "channel": c, "tone": t} for o, c, t in steps],
            "reminders.pause_on_dispute": self.pause_on_dispute.value,
            "discount.rate": round(self.discount_rate.value, 6), "discount.window_days": self.discount_window.value,
            "plans.offer": self.plan_offer.value, "plans.after_days_overdue": self.plan_after.value,
            "plans.instalments": self.plan_instalments.value, "plans.missed_tolerance": self.plan_tolerance.value,
            "escalation.agency": self.agency.value,
            "escalation.agency_after_days_overdue": self.agency_after.value,
            "escalation.legal": self.legal.value, "escalation.legal_after_days_overdue": self.legal_after.value,
            "write_off.age_days": self.write_off.value, "fees.enforce": self.fees.value,
        }

    def spec(self) -> PolicySpec:
        """The policy the controls describe (the preset with these levers; its segment overrides kept)."""
        return self.base.with_values(self.values())

    @property
    def widget(self) -> w.Widget:
        def section(title: str, *children: w.Widget) -> w.Widget:
            return w.VBox([w.HTML(f"<b>{html.escape(title)}</b>"), *children])

        return w.VBox([
            self.preset,
            section("Reminder steps (day from due date; negative = before)", *[r.box for r in self.steps],
                    self.pause_on_dispute),
            section("Early-payment discount", self.discount_rate, self.discount_window),
            section("Instalment plans", self.plan_offer, self.plan_after, self.plan_instalments, self.plan_tolerance),
            section("Escalation and write-off", self.agency, self.agency_after, self.legal, self.legal_after,
                    self.write_off),
            section("Late-payment fees", self.fees),
        ], layout=w.Layout(padding="4px", width="460px"))


# --- the dashboard ----------------------------------------------------------------------------------------


class Dashboard:
    """Two policy panels, portfolio and replication controls, a Run button and the results."""

    def __init__(self, scenario_dir: str | Path = "scenarios", scenario: str = "baseline",
                 policies: tuple[str, str] = ("as-is", "firm-and-fair"), reps: int = DEFAULT_REPS,
                 customers: int = DEFAULT_CUSTOMERS, seed: int | None = None,
                 runoff_days: int = DEFAULT_RUNOFF_DAYS, warmup_days: int = DEFAULT_WARMUP_DAYS,
                 workers: int = DEFAULT_WORKERS) -> None:
        files = scenario_files(scenario_dir)
        names = {p.stem: p for p in files}
        if scenario not in names:
            raise ValueError(f"no scenario {scenario!r} in {scenario_dir}; found: {', '.join(names) or 'none'}")
        self.scenario_choice = w.Dropdown(options=list(names.items()), value=names[scenario],
                                          description="portfolio", style={"description_width": "80px"})
        self.reps = _slider(w.IntSlider, "replications", min=2, max=40, value=reps)
        self.customers = _slider(w.IntSlider, "customers (scaled portfolio)", min=20, max=1000, step=10,
                                 value=customers)
        self.seed = seed
        self.runoff_days = runoff_days
        self.warmup_days = warmup_days
        self.scenario = load_scenario(self.scenario_choice.value)
        self._loaded_file = self.scenario_choice.value  # the file self.scenario came from
        self.a = PolicyPanel("A", self.scenario, policies[0])
        self.b = PolicyPanel("B", self.scenario, policies[1])
        self.scenario_choice.observe(self._on_scenario, names="value")
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = w.HTML("Change the levers, then press <b>Run</b>.")
        self.table = w.HTML()
        self.cards = w.HTML()
        self.out_of_date = False  # a control changed since the results on show were computed
        for control in [*self.a.controls, *self.b.controls, self.scenario_choice, self.customers, self.reps]:
            control.observe(self._mark_out_of_date, names="value")
        # The recommendation paragraph, above the results.
        self.advice = w.HTML(layout=w.Layout(min_height="40px"))
        self.images = {name: w.Image(format="png", layout=w.Layout(max_width="100%")) for name in FIGURES}
        # A figure is drawn when its tab is shown (drawing all four took about 0.7 s of every update).
        self.tabs = w.Tab(children=[self.table, *self.images.values()])
        for i, title in enumerate(("Differences A - B", *(title for title, _plot in FIGURES.values()))):
            self.tabs.set_title(i, title)
        self.tabs.observe(lambda _change: self._draw_shown_figure(), names="selected_index")
        self._drawn: set[str] = set()  # figures drawn for the current comparison
        self.comparison: Comparison | None = None
        self.seconds: float | None = None
        self.runs = 0
        self.reused = 0  # replications the last run took from earlier runs instead of simulating
        self._kept: list[tuple[Scenario, PolicySpec, int, dict[int, Replication]]] = []  # oldest first
        self.workers = max(1, int(workers))
        self.workers_failed = False  # set when worker processes could not run, and this process took over
        if self.workers > 1:
            shared_pool(self.workers, warm_up)  # started now, in the background: they import the model meanwhile
        else:
            warm_up_in_background()  # the compiled engine loads (or compiles) while the levers are set
        # The Run button bumps a counter; interactive_output redraws only when the counter moves.
        self._trigger = w.IntText(value=0, layout=w.Layout(display="none"))
        self.headline = w.interactive_output(self._update, {"run": self._trigger})
        self.run_button.on_click(lambda _button: self.run())

    def _on_scenario(self, change: dict) -> None:
        if change["new"] == self._loaded_file:
            return  # put back after a file that would not load: nothing to reload
        try:
            scenario = load_scenario(change["new"])
        except ScenarioError as exc:  # say why in the status line, and stay on the portfolio still loaded
            self.status.value = f"<span style='color:#b00'>Cannot load that portfolio: {html.escape(str(exc))}</span>"
            self.scenario_choice.value = self._loaded_file
            return
        self.scenario, self._loaded_file = scenario, change["new"]
        self.a.set_scenario(self.scenario)
        self.b.set_scenario(self.scenario)
        self.status.value = "Change the levers, then press <b>Run</b>."

    def _mark_out_of_date(self, _change: dict | None = None) -> None:
        """Grey out the results on show and say so the moment a control changes after a run."""
        if self.comparison is None or self.out_of_date:
            return
        self.out_of_date = True
        self.cards.value = headline_cards(self.comparison, out_of_date=True)
        self.status.value = "<b>Out of date:</b> a lever changed since the last run. Press <b>Run</b>."

    def run(self) -> Comparison | None:
        """Recompute the comparison with the current controls and redraw every output."""
        self._trigger.value += 1  # observers fire synchronously: _update has run when this returns
        return self.comparison

    def compute(self, progress: Callable[[int, int], None] | None = None) -> Comparison:
        """Run both policies ``reps`` times on the resized scenario, replication j with the same seed.

        Replications kept from earlier runs of the same portfolio, policy and seed are reused, not rerun;
        the others run on the worker processes (or in this process with ``workers=1``).
        """
        specs = [self.a.spec(), self.b.spec()]
        if specs[0].name == specs[1].name:
            specs[1] = specs[1].with_values({"name": specs[1].name + " (2)"})
        scn = resize(self.scenario, self.customers.value, self.warmup_days, self.runoff_days)
        seed = scn.seed if self.seed is None else self.seed
        reps = self.reps.value
        kept = [self._kept_runs(scn, s, seed) for s in specs]
        self.reused = sum(min(len(runs), reps) for runs in kept)
        done = self.reused
        if progress is not None:
            progress(done, 2 * reps)
        # Kept replications are always 0..k-1 (a run cut short keeps only such a prefix), so the missing
        # ones are k..reps-1. Sides missing the same ones share batches (both policies in one), split over
        # the workers; otherwise each side gets its own.
        todo = [(spec, runs) for spec, runs in zip(specs, kept) if len(runs) < reps]
        together = len({len(runs) for _, runs in todo}) == 1
        groups = [todo] if together else [[side] for side in todo]
        chunks = self.workers if together else max(1, self.workers // max(1, len(todo)))
        units = [unit for group in groups
                 for unit in work_units(scn, [(spec, spec.name) for spec, _ in group],
                                        range(len(group[0][1]), reps), lambda j: derive_seed(seed, j), "auto",
                                        chunks)]
        runs_of = {spec.name: runs for spec, runs in zip(specs, kept)}

        def file(_unit, results: list[Replication]) -> None:
            nonlocal done
            for result in results:
                runs_of[result.label][result.rep] = result
            done += len(results)
            if progress is not None:
                progress(done, 2 * reps)

        try:
            interrupted = run_all(run_unit, units, self._executor(), file, progress=False, runs_in=runs_in)
        except WorkersFailed:  # e.g. no way to start processes here: run in this process from now on
            stop_shared_pool(self.workers)
            self.workers, self.workers_failed = 1, True
            done = self.reused  # every unit runs again here (the same numbers), so count from the start
            interrupted = run_all(run_unit, units, None, file, progress=False, runs_in=runs_in)
        finally:
            for runs in kept:
                _keep_prefix(runs)
        if interrupted:
            raise KeyboardInterrupt
        out = tuple(runs[j] for runs in kept for j in range(reps))
        h = scn.horizon
        return Comparison(scn.name, scn.economics.currency, seed, tuple(s.name for s in specs), out,
                          measured=(h.measured_start, h.measured_end))

    def _executor(self) -> cf.Executor | None:
        return shared_pool(self.workers, warm_up) if self.workers > 1 else None

    def close(self) -> None:
        """Stop the worker processes (shared by the dashboards of this process; a later Run starts them again)."""
        stop_shared_pool(self.workers)

    def _kept_runs(self, scenario: Scenario, spec: PolicySpec, seed: int) -> dict[int, Replication]:
        """The replications kept for this portfolio, policy and seed (a new, empty entry if none), made newest."""
        for i, (scn, kept_spec, kept_seed, runs) in enumerate(self._kept):
            if kept_seed == seed and kept_spec == spec and scn == scenario:
                self._kept.append(self._kept.pop(i))
                return runs
        new: dict[int, Replication] = {}
        self._kept = [*self._kept, (scenario, spec, seed, new)][-CACHED_SIDES:]
        return new

    def _progress(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = total, done
        self.status.value = f"running replication {(done + 1) // 2} of {total // 2}..."

    def _update(self, run: int) -> None:
        if run == 0:
            return  # the status line says to press Run
        self.run_button.disabled = True
        started = time.perf_counter()
        try:
            comp = self.compute(self._progress)
        except (ScenarioError, ValueError) as exc:
            self.status.value = f"<span style='color:#b00'>Cannot run: {html.escape(str(exc))}</span>"
            print(f"Cannot run: {exc}")
            return
        finally:
            self.run_button.disabled = False
        self.comparison = comp
        self.runs += 1
        self.out_of_date = False
        self._show(comp)
        self.seconds = time.perf_counter() - started
        n = sum(1 for _ in comp.runs(comp.policies[0]))
        reused = f"; {self.reused} of {2 * n} replications reused from earlier runs" if self.reused else ""
        alone = "; worker processes could not run, so this process did the work" if self.workers_failed else ""
        self.status.value = (f"Done: 2 policies x {comp.values(comp.policies[0], 'customers')[0]:.0f} customers "
                             f"x {n} replications in {self.seconds:.1f} s{reused}{alone}")

    def _show(self, comp: Comparison) -> None:
        a, b = comp.policies[0], comp.policies[1]
        self.advice.value = (f"<p style='margin:4px 0'><b>Recommendation.</b> "
                             f"{html.escape(comp.recommendation().text)}</p>")
        self.cards.value = headline_cards(comp, a, b)
        self.table.value = (differences_table(comp).to_html(index=False, border=0)
                            + f"<h4>Where the net value difference comes from ({html.escape(comp.currency)}, costs "
                              f"negative; difference A - B)</h4>"
                            + net_value_table(comp, [a, b]).to_html(index=False, border=0))
        self._drawn = set()
        for image in self.images.values():
            image.value = b""  # no figure of an earlier comparison stays on show
        self._draw_shown_figure()

    def preview(self) -> IPython.display.HTML:
        """The recommendation and headline cards of the last run as plain HTML, for the app to show before
        its widgets are live: Voila puts plain outputs in the page itself, so the first results are on
        screen as soon as the page is, while the levers (widgets) load. The dashboard's widget hides the
        preview once it is drawn (its own cards take over), so the preview is never on show beside them."""
        if self.comparison is None:
            return IPython.display.HTML("")
        return IPython.display.HTML(f"<div class='{PREVIEW_CLASS}'>{self.advice.value}{self.cards.value}</div>")

    def _draw_shown_figure(self) -> None:
        """Draw the figure on the selected tab (none for the table's tab)."""
        index = self.tabs.selected_index
        if index:
            self._draw(list(FIGURES)[index - 1])

    def _draw(self, name: str) -> None:
        """Draw one figure for the current comparison, unless it already is (or nothing has run yet)."""
        if self.comparison is not None and name not in self._drawn:
            self.images[name].value = figure_png(FIGURES[name][1](self.comparison))
            self._drawn.add(name)

    def draw_figures(self) -> None:
        """Draw every figure now, not only when its tab is shown (for saving or testing them)."""
        for name in FIGURES:
            self._draw(name)

    @property
    def widget(self) -> w.Widget:
        """The whole dashboard: the levers in a side panel (the two policies on tabs), the results beside them,
        led by the recommendation and the headline cards; no box scrolls inside the page."""
        policies = w.Tab(children=[self.a.widget, self.b.widget])
        policies.set_title(0, "Policy A")
        policies.set_title(1, "Policy B")
        side = w.VBox([self.scenario_choice, self.customers, self.reps, policies,
                       w.HBox([self.run_button, self.progress]), self.status],
                      layout=w.Layout(width="490px", min_width="490px", padding="0 12px 0 0",
                                      border_right="1px solid #ddd"))
        results = w.VBox([self.advice, self.cards, self.tabs, self.headline],
                         layout=w.Layout(flex="1 1 auto", padding="0 0 0 12px"))
        hide_preview = w.HTML(f"<style>.{PREVIEW_CLASS} {{display: none}}</style>")  # see preview()
        return w.VBox([w.HBox([side, results], layout=w.Layout(align_items="flex-start")), self._trigger,
                       hide_preview])
