"""Calibration round trip: simulate a known scenario, export its ledger, fit, and compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import collectsim
from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.history import run_ledger, write_ledger
from collectsim.calibration.ledger import read_ledger
from collectsim.calibration.validation import TOLERANCE, validate
from collectsim.config.scenario import parse_scenario, read_toml
from helpers import CALIBRATION

KNOWN = CALIBRATION / "known.toml"
CHANNELS = {"paper": "paper", "electronic": "electronic"}


def known(customers: int | None = None, policy: dict | None = None) -> collectsim.Scenario:
    raw = read_toml(KNOWN)
    if customers is not None:
        for s in raw["portfolio"]["segments"]:
            s["customers"] = customers
    if policy is not None:
        raw["policies"]["as-is"] = policy
    return parse_scenario(raw, str(KNOWN))


def varied_known(seed: int, customers: int = 40) -> collectsim.Scenario:
    """The known scenario with its key parameters drawn afresh from plausible ranges (the truth to recover)."""
    rng = np.random.default_rng(seed)
    raw = read_toml(KNOWN)
    for s, late in zip(raw["portfolio"]["segments"], ((5.0, 25.0), (-3.0, 8.0))):
        s.update(customers=customers, orders_per_year=float(rng.uniform(6, 15)),
                 amount_median=float(rng.uniform(300, 3000)), amount_sigma=float(rng.uniform(0.5, 1.0)),
                 dispute_rate=float(rng.uniform(0.02, 0.12)), days_late_mean=float(rng.uniform(*late)),
                 ignore_share=float(rng.uniform(0.01, 0.08)))
    return parse_scenario(raw, str(KNOWN))


def ledger_of(scn: collectsim.Scenario, seed: int, path: Path, keep_segment: bool = False):
    frame = run_ledger(collectsim.simulate(scn, "as-is", seed=seed), channels=CHANNELS)
    if not keep_segment:
        frame = frame.drop(columns="segment")  # the channel column alone must find the split
    return read_ledger(write_ledger(frame, path))


@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    scn = known(customers=30)
    ledger = ledger_of(scn, 5, tmp_path_factory.mktemp("l") / "ledger.csv")
    return scn, ledger, Calibrator(scn.policy("as-is"), iterations=1, bootstrap=30).fit(ledger)


def test_fit_returns_self_with_a_summary_per_segment_and_parameter(small_fit):
    scn, ledger, cal = small_fit
    assert isinstance(cal, Calibrator)
    s = cal.summary
    assert set(s["segment"]) == {"paper", "electronic", "(portfolio)"}
    for key in ("orders_per_year", "amount_median", "days_late_mean", "ignore_share", "dispute_rate",
                "dispute_resolution_days", "terms_days"):
        assert (s["parameter"] == key).sum() == 2
    assert {"dispute_effect_days", "electronic_vs_paper_days"} <= set(s["parameter"])
    assert s.loc[s["parameter"] == "amount_median", "ci_low"].notna().all()
    assert sum(g.invoices for g in cal.groups_) == len(ledger.frame)


def test_the_written_scenario_loads_validates_and_says_what_was_fitted(small_fit, tmp_path, capsys):
    _, ledger, cal = small_fit
    path = cal.write(tmp_path / "mine.toml")
    text = path.read_text(encoding="utf-8")
    assert f"{len(ledger.frame)} invoices" in text and "fitted from" in text and "95% CI" in text
    scn = collectsim.load_scenario(path)
    assert [s.name for s in scn.portfolio.segments] == ["electronic", "paper"]
    assert scn.policy("as-is").reminders.steps[0].offset == 7
    from collectsim.apps.cli import main
    assert main(["validate", str(path)]) == 0


def test_customer_habits_are_shrunk_toward_their_segment_more_when_they_have_few_invoices(small_fit):
    _, _, cal = small_fit
    c = cal.customers_.dropna(subset=["mean_days_late"])
    assert ((c["weight"] >= 0) & (c["weight"] < 1)).all()
    few, many = c[c["settled_used"] <= 3], c[c["settled_used"] >= 10]
    assert len(few) and len(many)
    assert few["weight"].mean() < many["weight"].mean()
    for g, gc in c.groupby("group"):
        centre = cal.groups_[[x.name for x in cal.groups_].index(g)].history["q50"]
        lo = np.minimum(gc["mean_days_late"], centre) - 1e-9
        hi = np.maximum(gc["mean_days_late"], centre) + 1e-9
        assert ((gc["habit_observed"] >= lo) & (gc["habit_observed"] <= hi)).all()


def test_the_same_history_means_a_later_habit_when_the_firm_already_chases_hard(small_fit):
    """The habit is the behaviour before chasing: the more chasing explains, the later the habit."""
    scn, ledger, _ = small_fit
    none = scn.policy("as-is").with_values({"reminders.steps": []})
    hard = scn.policy("as-is").with_values({"reminders.steps": [
        {"offset": 1, "channel": "phone", "tone": "final"}, {"offset": 5, "channel": "phone", "tone": "final"}]})
    lax = Calibrator(none, iterations=3, bootstrap=0).fit(ledger)
    firm = Calibrator(hard, iterations=3, bootstrap=0).fit(ledger)
    for a, b in zip(lax.groups_, firm.groups_):
        assert b.values["days_late_mean"] > a.values["days_late_mean"] + 2


def test_in_sample_validation_meets_the_issue_tolerances_and_keeps_the_splits(tmp_path):
    scn = known()
    ledger = ledger_of(scn, 21, tmp_path / "ledger.csv")
    cal = Calibrator(scn.policy("as-is"), iterations=4, bootstrap=0, seed=3).fit(ledger)
    v = validate(cal, ledger, seed=99, out_of_time=False)
    for key, tol in TOLERANCE.items():
        assert abs(v.simulated[key] - v.history[key]) <= tol, (key, v.history[key], v.simulated[key])
    for split, a, b in (("by_disputed", "yes", "no"), ("by_channel", "paper", "electronic")):
        h, s = v.history[split], v.simulated[split]
        assert np.sign(h[a]["days_to_pay_p50"] - h[b]["days_to_pay_p50"]) == \
            np.sign(s[a]["days_to_pay_p50"] - s[b]["days_to_pay_p50"]) != 0, split
    assert "within tolerance" in v.judgement


def test_validation_json_shape_and_out_of_time(small_fit):
    _, ledger, cal = small_fit
    d = validate(cal, ledger, seed=7).to_dict()
    for side in ("history", "simulated"):
        for key in ("invoices", "share_late", "days_to_pay_p50", "days_to_pay_p90"):
            assert key in d[side]
            for split in ("by_disputed", "by_channel"):
                for group in d[side][split].values():
                    assert key in group
    oot = d["out_of_time"]
    assert oot["history"]["invoices"] + oot["fitted_on"]["invoices"] == len(ledger.frame)
    assert isinstance(d["judgement"], str) and d["judgement"]


@pytest.mark.slow
def test_fitted_95_percent_intervals_cover_the_true_values_in_at_least_90_percent_of_50_ledgers(tmp_path):
    """Fit recovery: 50 ledgers, each from the known scenario with its key parameters drawn afresh.

    Checked for both segments (100 intervals per key): orders_per_year, amount_median, amount_sigma,
    dispute_rate, days_late_mean and ignore_share; each must cover the truth in >= 90%.
    """
    keys = ("orders_per_year", "amount_median", "amount_sigma", "dispute_rate", "days_late_mean", "ignore_share")
    hits = {k: [] for k in keys}
    for seed in range(1, 51):
        scn = varied_known(seed)
        ledger = ledger_of(scn, 1000 + seed, tmp_path / f"l{seed}.csv")
        # The calibrator's default rounds of the chasing correction, as a user runs it (2 rounds under-covered
        # ignore_share, 87%, once set-aside debt was recalibrated to pay sooner and more tightly around 85 days).
        cal = Calibrator(scn.policy("as-is"), sim_scale=2, bootstrap=100, seed=seed).fit(ledger)
        for g in cal.groups_:
            true = next(s for s in scn.portfolio.segments if s.name == g.name)
            for k in keys:
                lo, hi = g.intervals[k]
                hits[k].append(lo <= getattr(true, k) <= hi)
    coverage = {k: float(np.mean(v)) for k, v in hits.items()}
    print("coverage", coverage)
    assert all(c >= 0.90 for c in coverage.values()), coverage


def test_automatic_segmentation_by_habit_orders_the_groups(small_fit):
    _, ledger, _ = small_fit
    cal = Calibrator(None, iterations=1, bootstrap=0, segment_by="habit").fit(ledger)
    values = {g.name: g.values["days_late_mean"] for g in cal.groups_}
    assert set(values) == {"early", "middle", "late"}
    assert values["early"] < values["middle"] < values["late"]
    assert cal.as_is_assumed and cal.scenario_.policy("as-is").reminders.steps


def test_the_same_ledger_and_seed_give_the_same_fit(small_fit):
    _, ledger, cal = small_fit
    again = Calibrator(cal.as_is, iterations=1, bootstrap=30).fit(ledger)
    assert again.summary.equals(cal.summary)
    assert again.to_toml() == cal.to_toml()


def test_the_judgement_names_what_is_off_and_small_groups_apart():
    from collectsim.calibration.validation import Validation, judge

    def fig(late, p50, p90, settled=500):
        return {"invoices": settled, "settled": settled, "share_late": late, "days_to_pay_p50": p50,
                "days_to_pay_p90": p90}
    history = {**fig(0.5, 40, 60), "by_disputed": {"yes": fig(0.9, 60, 90, 20), "no": fig(0.48, 39, 58)}}
    close = {**fig(0.51, 41, 62), "by_disputed": {"yes": fig(0.7, 55, 80, 20), "no": fig(0.5, 40, 60)}}
    v = Validation(history, close, None, "", np.array([1.0]), np.array([1.0]))
    text = judge(v)
    assert text.startswith("The fitted scenario pays like the history")
    assert "disputed=yes (20 settled invoices): share_late" in text
    far = {**fig(0.6, 45, 60), "by_disputed": {"yes": fig(0.4, 30, 50, 20), "no": fig(0.6, 45, 60)}}
    text = judge(Validation(history, far, None, "", np.array([1.0]), np.array([1.0])))
    assert text.startswith("The fitted scenario does not reproduce everything")
    assert "share paid late +10.0 points" in text and "median days to pay +5.0 days" in text
    assert "disputed split" in text.split("Within tolerance")[0]


def test_an_unseen_us_shaped_export_of_settled_invoices_only_calibrates_and_validates(tmp_path):
    """Acceptance: mapped names, month-first dates, '$1,234.50' amounts, only settled invoices."""
    from collectsim.calibration.ledger import LedgerOptions

    scn = known()
    frame = run_ledger(collectsim.simulate(scn, "as-is", seed=8), channels=CHANNELS)
    frame = frame[frame["paid_date"].notna()]
    lines = ["Acct,Inv #,Inv Date,Due,Total,Paid On,Dispute?,Sent By"]
    for r in frame.itertuples():
        lines.append(f'{r.customer_id},{r.invoice_id},{r.issue_date:%m/%d/%Y},{r.due_date:%m/%d/%Y},'
                     f'"${r.amount:,.2f}",{r.paid_date:%m/%d/%Y},{"Y" if r.disputed == "yes" else "N"},'
                     f'{"E-mail" if r.channel == "electronic" else "Post"}')
    path = tmp_path / "us.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    columns = {"customer_id": "Acct", "invoice_id": "Inv #", "issue_date": "Inv Date", "due_date": "Due",
               "amount": "Total", "paid_date": "Paid On", "disputed": "Dispute?", "channel": "Sent By"}
    ledger = read_ledger(path, LedgerOptions(columns=columns))
    assert ledger.date_format == "month-first" and len(ledger.frame) == len(frame)
    assert ledger.frame["amount_cents"].sum() == round(frame["amount"].sum() * 100)
    cal = Calibrator(scn.policy("as-is"), iterations=4, bootstrap=0, seed=3).fit(ledger)
    assert cal.settled_only_
    v = validate(cal, ledger, seed=99, out_of_time=False)
    for key, tol in TOLERANCE.items():
        assert abs(v.simulated[key] - v.history[key]) <= tol, (key, v.history[key], v.simulated[key])
    fitted = {g.name: g.values["days_late_mean"] for g in cal.groups_}
    assert fitted["paper"] > fitted["electronic"]


# --- payments as they cluster (issue 22) -------------------------------------------------------------------------

#: The known portfolio with a due-date spike, payment runs on business days and a mix of terms in each segment.
CLUSTERED = ({"on_due_date_share": 0.35, "payment_weekdays": [0.3, 0.1, 0.2, 0.1, 0.3, 0, 0],
              "terms_mix": {"30": 0.6, "60": 0.4}},
             {"on_due_date_share": 0.5, "payment_weekdays": [0.2, 0.2, 0.2, 0.2, 0.2, 0, 0],
              "terms_mix": {"14": 0.3, "30": 0.7}})


def clustered_known(customers: int = 80, disputes: bool = True) -> collectsim.Scenario:
    raw = read_toml(KNOWN)
    for s, extra in zip(raw["portfolio"]["segments"], CLUSTERED):
        s.update(extra, customers=customers)
        if not disputes:
            s["dispute_rate"] = 0.0
    return parse_scenario(raw, str(KNOWN))


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_a_due_date_spike_payment_runs_and_mixed_terms_are_fitted_and_reproduced(tmp_path, seed):
    """Fit recovery on ledgers the model made with all three (issue 22, point 4): the in-sample share paid late
    within 3 points, median days to pay within 2, 90th percentile within 4; the share paid on the due date within
    3 points and every weekday's share of payments within 5; the terms mix and weekday weights recovered."""
    scn = clustered_known()
    ledger = ledger_of(scn, seed, tmp_path / "ledger.csv")
    cal = Calibrator(scn.policy("as-is"), iterations=4, bootstrap=0, seed=3).fit(ledger)
    for g in cal.groups_:
        true = next(s for s in scn.portfolio.segments if s.name == g.name)
        assert set(g.tables["terms_mix"]) == set(true.terms_mix)
        for terms, share in true.terms_mix.items():
            assert abs(g.tables["terms_mix"][terms] - share) < 0.05, (g.name, g.tables)
        # each customer has one run weekday: the weights are recovered up to the chance of who drew which day
        weights = np.asarray(true.payment_weekdays)
        chance = 3 * np.sqrt(weights * (1 - weights) / g.customers)
        assert (np.abs(np.subtract(g.tables["payment_weekdays"], weights)) <= chance).all(), g.tables
        assert abs(g.values["on_due_date_share"] - true.on_due_date_share) < 0.12, g.values
    v = validate(cal, ledger, seed=99, out_of_time=False)
    print({k: (v.history[k], v.simulated[k]) for k in TOLERANCE})
    for key, tol in TOLERANCE.items():
        assert abs(v.simulated[key] - v.history[key]) <= tol, (key, v.history[key], v.simulated[key])
    profile = v.table().query("figure.str.startswith('paid_on_')")
    assert len(profile) == 7 and profile["within"].all(), profile
    assert set(v.history["by_terms"]) == {"14", "30", "60"}
    assert "within tolerance" in v.judgement


def test_a_ledger_paid_on_any_day_without_a_spike_and_one_terms_gets_none_of_them(small_fit):
    _, _, cal = small_fit
    for g in cal.groups_:
        assert g.tables == {} and "on_due_date_share" not in g.values  # no spike beyond chance: none invented
    text = cal.to_toml()
    assert "payment_weekdays" not in text and "terms_mix" not in text and "on_due_date_share" not in text


def test_without_a_dispute_column_no_dispute_rate_is_fitted_or_reported(tmp_path):
    scn = clustered_known(customers=30)
    frame = run_ledger(collectsim.simulate(scn, "as-is", seed=4), channels=CHANNELS).drop(columns="disputed")
    cal = Calibrator(scn.policy("as-is"), iterations=1, bootstrap=20).fit(read_ledger(
        write_ledger(frame, tmp_path / "l.csv")))
    assert not cal.has_disputes_
    assert not cal.summary["parameter"].str.startswith("dispute").any(), cal.summary["parameter"].unique()
    for seg in cal.scenario_.portfolio.segments:
        assert seg.dispute_rate == 0.0  # the ledger's lateness already holds what disputes did
    assert "the ledger has no dispute column" in cal.to_toml()


def test_small_groups_are_merged_into_the_nearest_and_the_file_says_so(tmp_path):
    scn = known(customers=30)
    frame = run_ledger(collectsim.simulate(scn, "as-is", seed=6), channels=CHANNELS)
    late = frame["segment"] == "paper"
    few = sorted(frame.loc[late, "customer_id"].unique())[:4]  # four late payers in a segment of their own
    frame.loc[frame["customer_id"].isin(few), "segment"] = "tiny"
    frame = frame.drop(columns="channel")
    cal = Calibrator(scn.policy("as-is"), iterations=0, bootstrap=0).fit(read_ledger(
        write_ledger(frame, tmp_path / "l.csv")))
    assert cal.merged_ == {"tiny": "paper"}
    assert [g.name for g in cal.groups_] == ["electronic", "paper"]
    assert next(g for g in cal.groups_ if g.name == "paper").merged == ["tiny"]
    assert "with the ledger's tiny" in cal.to_toml()


def test_how_long_a_dispute_holds_payment_is_fitted_from_the_disputed_invoices(tmp_path):
    """Disputes hold payment until resolved (the model's one effect of a dispute on timing), fitted to the disputed
    invoices' mean extra days past due: over six ledgers each, disputes taking 35 and 15 days are recovered on
    average within 10%, every fit has an interval around it, and the simulated disputed invoices pay like the
    history's (median days to pay within 2, share paid late within 5 points)."""
    fitted = {}
    for truth in (35.0, 15.0):
        raw = read_toml(KNOWN)
        for s in raw["portfolio"]["segments"]:
            s.update(dispute_rate=0.15, dispute_resolution_days=truth)
        scn = parse_scenario(raw, str(KNOWN))
        fitted[truth] = []
        for seed in range(40, 46):
            ledger = ledger_of(scn, seed, tmp_path / f"l{truth}-{seed}.csv")
            cal = Calibrator(scn.policy("as-is"), iterations=4, bootstrap=20 if seed == 40 else 0, seed=seed)
            cal.fit(ledger)
            fitted[truth].append(cal.groups_[0].values["dispute_resolution_days"])
            assert "dispute_min_days" not in cal.groups_[0].values  # a plain exponential wait: no minimum is fitted
            if seed == 40:
                lo, hi = cal.groups_[0].intervals["dispute_resolution_days"]
                assert lo < fitted[truth][-1] < hi
                v = validate(cal, ledger, seed=99, out_of_time=False)
                h, s = v.history["by_disputed"]["yes"], v.simulated["by_disputed"]["yes"]
                assert abs(h["days_to_pay_p50"] - s["days_to_pay_p50"]) <= 2, (h, s)
                assert abs(h["share_late"] - s["share_late"]) <= 0.05, (h, s)
    print(fitted)
    for truth, values in fitted.items():
        assert abs(np.mean(values) / truth - 1) < 0.10, fitted
    assert min(fitted[35.0]) > max(fitted[15.0]), fitted


def slow_disputes(shortest: float, mean: float, rate: float = 0.15, customers: int | None = None
                  ) -> collectsim.Scenario:
    """The known scenario whose disputes take at least ``shortest`` days, then an exponential wait of ``mean``."""
    raw = read_toml(KNOWN)
    for s in raw["portfolio"]["segments"]:
        s.update(dispute_rate=rate, dispute_min_days=shortest, dispute_resolution_days=mean)
        if customers is not None:
            s["customers"] = customers
    return parse_scenario(raw, str(KNOWN))


def test_disputes_that_take_at_least_weeks_are_fitted_with_their_minimum(tmp_path):
    """A strong dispute effect (issue 22): one invoice in seven disputed, each dispute at least 30 days and then an
    exponential 10 more, so no disputed invoice is paid by its due date. A plain exponential wait cannot give that:
    the fit adds the shortest dispute and recovers it (30 days) on average within 10% over four ledgers and the wait
    beyond it (10 days, a smaller share of the whole: noisier) within 20%, with 95% intervals around the estimates;
    the simulated disputed invoices are paid late as often as the history's (within 3 points) and their median days
    to pay is within 2 (their 90th percentile, of about 150 invoices, is printed: not held to the portfolio's
    tolerance, as in test_fit_recovery)."""
    scn = slow_disputes(30.0, 10.0)
    shortest, means = [], []
    for seed in range(40, 44):
        ledger = ledger_of(scn, seed, tmp_path / f"slow-{seed}.csv")
        cal = Calibrator(scn.policy("as-is"), iterations=4, bootstrap=40 if seed == 40 else 0, seed=seed).fit(ledger)
        values = cal.groups_[0].values
        assert "dispute_min_days" in values, values
        assert all(g.values["dispute_min_days"] == values["dispute_min_days"] for g in cal.groups_)  # one portfolio
        shortest.append(values["dispute_min_days"])
        means.append(values["dispute_resolution_days"])
        if seed == 40:
            for key in ("dispute_min_days", "dispute_resolution_days"):
                lo, hi = cal.groups_[0].intervals[key]
                assert lo < values[key] < hi, (key, lo, values[key], hi)
            assert "dispute_min_days = " in cal.to_toml()
            v = validate(cal, ledger, seed=99, out_of_time=False)
            h, s = v.history["by_disputed"]["yes"], v.simulated["by_disputed"]["yes"]
            print("disputed: history", h, "simulated", s)
            assert abs(h["share_late"] - s["share_late"]) <= TOLERANCE["share_late"], (h, s)
            assert abs(h["days_to_pay_p50"] - s["days_to_pay_p50"]) <= TOLERANCE["days_to_pay_p50"], (h, s)
    print("shortest", shortest, "mean beyond", means)
    assert abs(np.mean(shortest) / 30.0 - 1) < 0.10, shortest
    assert abs(np.mean(means) / 10.0 - 1) < 0.20, means


@pytest.mark.slow
def test_the_shortest_dispute_s_95_percent_intervals_cover_the_truth_in_at_least_90_percent_of_50_ledgers(tmp_path):
    """50 ledgers of the known scenario with disputes of a drawn shortest length (20-40 days) and wait beyond it
    (5-20 days), one for the portfolio, and a drawn dispute rate (0.10-0.20), fitted as the calibrator's defaults fit
    (sim_scale 2, 100 bootstrap resamples as the other coverage tests).

    Where the fit finds a minimum, the intervals of the shortest dispute and of the wait beyond it each cover the truth
    in at least 90% of the ledgers. The test for a minimum (beyond chance, DISPUTE_MIN_Z) finds it in every ledger
    whose disputes take 30 days or more and in at least 80% of all: a shorter minimum with raise days up to 14 and
    30-day terms leaves many disputes ending before the due date, much as a plain exponential wait does, and the fit
    then keeps the plain wait. Measured (issue 22): found in 44 of 50 (the six missed all had a minimum under 26
    days); coverage where found 0.98 (minimum) and 1.0 (wait beyond it). Before the two keys' intervals came from
    their joint response (the delta method through the measured Jacobian) they covered 0.75 and 0.86."""
    hits: dict[str, list[bool]] = {"dispute_min_days": [], "dispute_resolution_days": []}
    found, strong = [], []
    for seed in range(1, 51):
        rng = np.random.default_rng(seed)
        scn = slow_disputes(float(rng.uniform(20, 40)), float(rng.uniform(5, 20)), float(rng.uniform(0.10, 0.20)),
                            customers=40)
        ledger = ledger_of(scn, 3000 + seed, tmp_path / f"s{seed}.csv")
        cal = Calibrator(scn.policy("as-is"), sim_scale=2, bootstrap=100, seed=seed).fit(ledger)
        g, true = cal.groups_[0], scn.portfolio.segments[0]
        found.append("dispute_min_days" in g.values)
        if true.dispute_min_days >= 30:
            strong.append(found[-1])
        if found[-1]:
            for key in hits:
                lo, hi = g.intervals[key]
                hits[key].append(bool(lo <= getattr(true, key) <= hi))
        print(seed, {k: (round(getattr(true, k), 1), round(g.values.get(k, np.nan), 1),
                         tuple(round(x, 1) for x in g.intervals.get(k, (np.nan, np.nan)))) for k in hits})
    coverage = {k: float(np.mean(v)) for k, v in hits.items()}
    print("found", sum(found), "of", len(found), "coverage where found", coverage)
    assert all(strong) and np.mean(found) >= 0.80, (strong, found)
    assert all(c >= 0.90 for c in coverage.values()), coverage
