"""The dashboard's callbacks, driven headlessly: set control values, press Run, check what changed.

Setting ``widget.value`` outside a kernel fires observers synchronously, exactly as a click would.
Sizes are small (40 customers, 2-3 replications) so each run takes a fraction of a second.
"""

import html
import re

import pytest

pytest.importorskip("ipywidgets")

import concurrent.futures as cf  # noqa: E402
from concurrent.futures.process import BrokenProcessPool  # noqa: E402

import collectsim.apps.dashboard as dashboard_module  # noqa: E402
from collectsim import compare
from collectsim.apps.dashboard import Dashboard, _keep_prefix, comparison_table, resize  # noqa: E402
from collectsim.config.scenario import load_scenario  # noqa: E402
from collectsim.experiments import executors  # noqa: E402
from collectsim.present.cards import CARD_METRICS  # noqa: E402
from helpers import SCENARIOS

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def dash():
    return small_dashboard()


def small_dashboard(**kw) -> Dashboard:
    """40 customers, 2 replications, a short run-off; in this process unless ``workers`` says otherwise."""
    return Dashboard(SCENARIOS, "baseline", ("as-is", "firm-and-fair"), **{
        "reps": 2, "customers": 40, "runoff_days": 200, "workers": 1, **kw})


def test_nothing_runs_until_run_is_pressed(dash):
    dash.a.discount_rate.value = 0.02
    dash.reps.value = 3
    assert dash.comparison is None and dash.runs == 0


def test_run_button_computes_the_comparison_and_fills_every_output(dash):
    dash.run_button.click()
    comp = dash.comparison
    assert comp is not None and dash.runs == 1
    assert comp.policies == ("A: as-is", "B: firm-and-fair") and comp.reps == 2
    assert "DSO" in dash.table.value and "verdict" in dash.table.value
    assert "Where the net value difference comes from" in dash.table.value and "cost of goods" in dash.table.value
    assert dash.tabs.selected_index == 0 and all(image.value == b"" for image in dash.images.values())
    for index, image in enumerate(dash.images.values(), start=1):
        dash.tabs.selected_index = index  # a figure is drawn when its tab is shown
        assert image.value[:8] == PNG
    assert dash.progress.value == dash.progress.max == 4
    assert dash.status.value.startswith("Done")


def test_the_shown_figure_is_redrawn_for_each_run_and_no_earlier_one_stays(dash):
    dash.tabs.selected_index = 1
    dash.run()
    first_cash = dash.images["cash_curve"].value
    assert first_cash[:8] == PNG and dash.images["aging"].value == b""
    dash.draw_figures()
    first_aging = dash.images["aging"].value
    assert first_aging[:8] == PNG
    dash.b.discount_rate.value = 0.03
    dash.run()
    assert dash.images["cash_curve"].value[:8] == PNG and dash.images["cash_curve"].value != first_cash
    assert dash.images["aging"].value == b""  # the earlier run's figure is gone until its tab is shown
    dash.tabs.selected_index = 1 + list(dashboard_module.FIGURES).index("aging")  # tab 0 is the table
    assert dash.images["aging"].value[:8] == PNG and dash.images["aging"].value != first_aging


def test_changing_a_lever_recomputes_and_changes_outputs(dash):
    dash.run()
    dash.draw_figures()
    first, table, cash_png = dash.comparison, dash.table.value, dash.images["cash_curve"].value
    dash.a.discount_rate.value = 0.03
    dash.a.discount_window.value = 15
    dash.reps.value = 3
    dash.run()
    second = dash.comparison
    assert second is not first and second.reps == 3 and dash.runs == 2
    assert second.runs("A: as-is (edited)")[0].metrics["discounts_granted"] > 0
    assert first.runs("A: as-is")[0].metrics["discounts_granted"] == 0
    dash.draw_figures()
    assert dash.table.value != table and dash.images["cash_curve"].value != cash_png


def test_dashboard_matches_collectsim_compare_on_the_same_policies(dash):
    """The dashboard's own loop gives what collectsim.experiments.compare gives (same seeds, same numbers)."""
    dash.run()
    specs = [dash.a.spec(), dash.b.spec()]
    scn = resize(dash.scenario, 40, dash.warmup_days, 200)
    reference = compare(scn, specs, reps=2, progress=False)
    assert comparison_table(dash.comparison).equals(comparison_table(reference))


def test_preset_dropdown_loads_the_policy_into_the_controls(dash):
    dash.a.preset.value = "discount-led"
    assert dash.a.discount_rate.value == pytest.approx(0.02)
    assert dash.a.spec().discount.window_days == 10
    dash.a.preset.value = "flexible-plans"
    assert dash.a.plan_offer.value and dash.a.plan_after.value == 21
    assert sum(r.on.value for r in dash.a.steps) == 4


def test_controls_round_trip_the_preset_policy(dash):
    """Untouched controls describe the preset exactly (apart from the label in its name)."""
    scenario = load_scenario(SCENARIOS / "baseline.toml")
    for name in ("as-is", "firm-and-fair", "flexible-plans", "discount-led"):
        dash.b.preset.value = name
        assert dash.b.spec().with_values({"name": name}) == scenario.policy(name)


def test_reminder_steps_and_switches_reach_the_policy(dash):
    row = dash.b.steps[5]
    row.on.value, row.offset.value, row.channel.value, row.tone.value = True, -5, "email", "friendly"
    dash.b.fees.value = True
    dash.b.agency.value = True
    spec = dash.b.spec()
    assert spec.reminders.steps[0].offset == -5  # sorted into place
    assert spec.fees.enforce and spec.escalation.agency


def test_two_steps_on_the_same_day_are_reported_not_raised(dash):
    for row in dash.a.steps[:2]:
        row.on.value, row.offset.value = True, 10
    dash.run()
    assert dash.comparison is None
    assert "Cannot run" in dash.status.value and "offset" in dash.status.value


def test_changing_the_scenario_refreshes_the_presets(tmp_path):
    (tmp_path / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    (tmp_path / "strategies").symlink_to(SCENARIOS / "strategies")
    small = (SCENARIOS / "baseline.toml").read_text().replace('name = "baseline"', 'name = "other"')
    small, replaced = re.subn(r"include_policies = \[.*?\]",
                              'include_policies = ["strategies/as-is.toml", "strategies/discount-led.toml"]',
                              small, count=1, flags=re.S)
    assert replaced == 1
    (tmp_path / "other.toml").write_text(small)
    dash = Dashboard(tmp_path, "baseline", ("as-is", "firm-and-fair"), reps=2, customers=40, workers=1)
    dash.scenario_choice.value = tmp_path / "other.toml"
    assert dash.scenario.name == "other"
    assert list(dash.b.preset.options) == ["as-is", "discount-led"]
    assert dash.b.preset.value == "as-is"


def test_a_portfolio_file_that_will_not_load_is_named_and_the_loaded_one_stays(tmp_path):
    (tmp_path / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    (tmp_path / "strategies").symlink_to(SCENARIOS / "strategies")
    (tmp_path / "broken.toml").write_text('name = "broken"\nseed = "soon"\n')
    dash = Dashboard(tmp_path, "baseline", ("as-is", "firm-and-fair"), reps=2, customers=40, workers=1)
    dash.a.discount_rate.value = 0.02  # a lever already changed is kept
    dash.scenario_choice.value = tmp_path / "broken.toml"
    assert "Cannot load" in dash.status.value and "broken.toml" in dash.status.value and "seed" in dash.status.value
    assert dash.scenario_choice.value == tmp_path / "baseline.toml" and dash.scenario.name == "baseline"
    assert dash.a.discount_rate.value == 0.02
    dash.run()
    assert dash.comparison is not None and dash.status.value.startswith("Done")


def test_resize_keeps_segment_proportions_and_the_measured_period():
    scenario = load_scenario(SCENARIOS / "baseline.toml")
    small = resize(scenario, 100, 30, 100)
    assert small.portfolio.customer_count == pytest.approx(100, abs=3)
    assert small.horizon.measured_days == scenario.horizon.measured_days
    assert (small.horizon.warmup_days, small.horizon.runoff_days) == (30, 100)
    assert [p.name for p in small.policies] == [p.name for p in scenario.policies]


def test_levers_far_from_the_presets_are_shown_unclipped(dash):
    extreme = dash.a.base.with_values({"write_off.age_days": 2000, "discount.rate": 0.1, "discount.window_days": 60,
                                       "plans.missed_tolerance": 5, "escalation.agency_after_days_overdue": 10})
    dash.a.load(extreme)
    assert dash.a.spec().with_values({"name": extreme.name}) == extreme


def _same_numbers(first, second) -> bool:
    """Whether two comparisons hold the same replications, metric by metric and day by day."""
    pairs = [(a, b) for p, q in zip(first.policies, second.policies) for a, b in zip(first.runs(p), second.runs(q))]
    return len(pairs) == 2 * first.reps and all(
        a.label == b.label and a.rep == b.rep and a.metrics == b.metrics
        and (a.cumulative_cash == b.cumulative_cash).all() and (a.final_goodwill == b.final_goodwill).all()
        for a, b in pairs)


def test_an_unchanged_side_is_reused_and_gives_what_a_fresh_run_gives(dash):
    dash.run()
    assert dash.reused == 0
    kept_a = dash.comparison.runs("A: as-is")
    dash.b.discount_rate.value = 0.02
    dash.run()
    assert dash.reused == 2 and "2 of 4 replications reused" in dash.status.value
    assert all(x is y for x, y in zip(dash.comparison.runs("A: as-is"), kept_a))  # not simulated again
    fresh = small_dashboard()
    fresh.b.discount_rate.value = 0.02
    fresh.run()
    assert fresh.reused == 0 and _same_numbers(dash.comparison, fresh.comparison)


def test_more_replications_run_only_the_new_ones(dash):
    dash.run()
    dash.reps.value = 3
    dash.run()
    assert dash.reused == 4 and dash.comparison.reps == 3
    reference = compare(resize(dash.scenario, 40, dash.warmup_days, 200), [dash.a.spec(), dash.b.spec()], reps=3,
                        progress=False)
    assert comparison_table(dash.comparison).equals(comparison_table(reference))
    dash.reps.value = 2  # fewer: everything is kept, nothing runs
    dash.run()
    assert dash.reused == 4 and dash.comparison.reps == 2


def test_a_new_portfolio_size_or_lever_is_simulated_not_reused(dash):
    dash.run()
    dash.customers.value = 50
    dash.run()
    assert dash.reused == 0
    dash.a.discount_rate.value = 0.02
    dash.run()
    assert dash.reused == 2  # B is kept from the run before; A changed
    for rate in (0.01, 0.015, 0.025, 0.03, 0.035):
        dash.a.discount_rate.value = rate
        dash.run()
    assert len(dash._kept) <= 4  # only the newest few sides are kept
    assert dash.reused == 2  # B, unchanged throughout, stayed among them


def test_worker_processes_give_the_same_numbers_and_stay_up_between_runs():
    dash, alone = small_dashboard(reps=3, workers=2), small_dashboard(reps=3)
    try:
        pool = executors._POOLS[2]  # started with the dashboard, before the first Run
        dash.run()
        alone.run()
        assert _same_numbers(dash.comparison, alone.comparison)
        dash.b.discount_rate.value = alone.b.discount_rate.value = 0.02
        dash.run()  # only B runs now, its replications split over both workers
        alone.run()
        assert executors._POOLS[2] is pool and dash.reused == 3
        assert _same_numbers(dash.comparison, alone.comparison)
        again = small_dashboard(workers=2)  # e.g. the notebook cell run again: the same workers
        assert executors._POOLS[2] is pool and again.workers == 2
    finally:
        dash.close()
    assert 2 not in executors._POOLS


class _DeadWorkers(cf.Executor):
    """An executor whose every task fails as if its worker process had died."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future


def test_when_workers_cannot_run_the_dashboard_runs_in_this_process(dash, monkeypatch):
    monkeypatch.setitem(executors._POOLS, 2, _DeadWorkers())
    dash.workers = 2
    dash.run()
    assert dash.workers == 1 and 2 not in executors._POOLS
    assert "this process did the work" in dash.status.value and dash.progress.value == dash.progress.max == 4
    reference = small_dashboard()
    reference.run()
    assert _same_numbers(dash.comparison, reference.comparison)


def test_a_run_cut_short_keeps_what_finished_and_the_next_run_reuses_it(dash, monkeypatch):
    real, calls = dashboard_module.run_unit, []

    def stopped_at_the_third(unit):
        calls.append(unit)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(unit)

    from collectsim.experiments import replication

    monkeypatch.setattr(replication, "BATCH_RUNS", 1)  # one run a unit: A0, B0, A1, B1
    monkeypatch.setattr(dashboard_module, "run_unit", stopped_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        dash.compute()
    monkeypatch.setattr(dashboard_module, "run_unit", real)
    dash.run()
    assert dash.reused == 2  # A0 and B0 finished before the cut; A1 and B1 run now
    reference = small_dashboard()
    reference.run()
    assert _same_numbers(dash.comparison, reference.comparison)


def test_kept_replications_after_a_gap_are_dropped():
    runs = {0: "r0", 1: "r1", 3: "r3", 4: "r4"}
    _keep_prefix(runs)
    assert runs == {0: "r0", 1: "r1"}


def test_the_recommendation_paragraph_leads_the_results(dash):
    dash.run()
    text = dash.comparison.recommendation().text
    assert dash.advice.value.startswith("<p") and "<b>Recommendation.</b>" in dash.advice.value
    assert html.escape(text) in dash.advice.value
    side, results = dash.widget.children[0].children
    assert list(results.children)[:3] == [dash.advice, dash.cards, dash.tabs]  # beside the levers, leading
    assert dash.customers in side.children and dash.run_button in side.children[4].children


def test_headline_cards_show_both_policies_the_difference_and_colour_only_real_differences(dash):
    dash.run()
    comp = dash.comparison
    cards = dash.cards.value
    for label in ("Net value", "Cash collected", "DSO", "Bad-debt ratio", "Cost to collect"):
        assert label.lower() in cards.lower()
    assert cards.count("class='collectsim-card'") == 6 and "95% CI of A - B" in cards
    for metric in ("dso", "net_value"):
        diff = comp.difference(*comp.policies, metric)
        significant = diff.lo > 0 or diff.hi < 0
        card = cards.split("class='collectsim-card'")[1 + CARD_METRICS.index(metric)]
        assert ("better</b> by" in card) == significant, card
    assert "moved most by" in cards


def test_a_changed_lever_marks_the_results_out_of_date_until_the_next_run(dash):
    dash.a.discount_rate.value = 0.0  # before any run: nothing to mark
    assert not dash.out_of_date
    dash.run()
    assert not dash.out_of_date and "Out of date" not in dash.cards.value
    dash.b.discount_rate.value = 0.02
    assert dash.out_of_date and "Out of date" in dash.cards.value and "Out of date" in dash.status.value
    dash.run()
    assert not dash.out_of_date and "Out of date" not in dash.cards.value and dash.status.value.startswith("Done")
    dash.reps.value = 3
    assert dash.out_of_date


def test_an_edited_policy_is_named_edited_and_its_preset_again_when_put_back(dash):
    assert dash.b.spec().name == "B: firm-and-fair"
    dash.b.discount_rate.value = 0.015
    assert dash.b.spec().name == "B: firm-and-fair (edited)"
    dash.b.discount_rate.value = 0.0
    assert dash.b.spec().name == "B: firm-and-fair"
    dash.b.preset.value = "discount-led"
    assert dash.b.spec().name == "B: discount-led"
    dash.run()
    assert dash.comparison.policies == ("A: as-is", "B: discount-led")


def test_unticked_reminder_rows_are_blank_after_a_preset_with_fewer_steps(dash):
    longest = max(dash.scenario.policies, key=lambda p: len(p.reminders.steps))
    shortest = min(dash.scenario.policies, key=lambda p: len(p.reminders.steps))
    assert len(longest.reminders.steps) > len(shortest.reminders.steps)
    dash.a.preset.value = longest.name
    dash.a.preset.value = shortest.name
    for row in dash.a.steps[len(shortest.reminders.steps):]:
        assert (row.on.value, row.offset.value, row.channel.value, row.tone.value) == (False, 0, "email", "friendly")
