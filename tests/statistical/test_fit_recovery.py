"""Fit recovery on messy synthetic ledgers (issue 22, point 4).

A scenario with every feature issue 22 added at once (a due-date spike, payment runs on business days, a mix of
terms within each segment, disputes that hold payment for weeks) is simulated; its invoices are written the way an
ERP clearing export comes (two currencies, a date format per date column, ``20190501.0`` due dates and
``2019-05-03 00:00:00`` clearing dates, the header "Document Date" twice, customer ids with and without leading
zeros) and read back through a mapping file as a user would. The fit must then reproduce the history in-sample
(share paid late within 3 points, median days to pay within 2, 90th percentile within 4) and out of time (share
paid late within 5 points), and its 95% intervals must cover the true parameters in at least 90% of 50 ledgers
(slow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import collectsim
from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.history import run_ledger
from collectsim.calibration.ledger import Ledger, LedgerOptions, read_ledger
from collectsim.calibration.validation import TOLERANCE, validate
from collectsim.config.scenario import parse_scenario, read_toml
from helpers import CALIBRATION

KNOWN = CALIBRATION / "known.toml"
CHANNELS = {"paper": "paper", "electronic": "electronic"}
#: EUR per USD in the export's [fx] table; a customer whose number is a multiple of USD_EVERY is billed in dollars
RATE, USD_EVERY = 0.92, 4
#: The out-of-time tolerance of the issue: the share paid late of invoices issued after the fit within 5 points.
OUT_OF_TIME_SHARE_LATE = 0.05

#: Each segment's clustering (issue 22) and a strong dispute effect: one invoice in eight disputed, held 45 days.
MESSY = ({"on_due_date_share": 0.35, "payment_weekdays": [0.3, 0.1, 0.2, 0.1, 0.3, 0, 0],
          "terms_mix": {"30": 0.6, "60": 0.4}, "dispute_rate": 0.12, "dispute_resolution_days": 45.0},
         {"on_due_date_share": 0.5, "payment_weekdays": [0.2, 0.2, 0.2, 0.2, 0.2, 0, 0],
          "terms_mix": {"14": 0.3, "30": 0.7}, "dispute_rate": 0.12, "dispute_resolution_days": 45.0})


def messy_scenario(customers: int = 80, draw: int | None = None) -> collectsim.Scenario:
    """The known portfolio with every messy feature; with ``draw``, its key parameters drawn afresh (the truth)."""
    raw = read_toml(KNOWN)
    rng = np.random.default_rng(draw if draw is not None else 0)
    resolution = float(rng.uniform(25, 60))  # one resolution time for the portfolio, as the fit has it
    for s, extra, late in zip(raw["portfolio"]["segments"], MESSY, ((5.0, 25.0), (-3.0, 8.0))):
        s.update(extra, customers=customers)
        if draw is not None:
            s.update(orders_per_year=float(rng.uniform(6, 15)), amount_median=float(rng.uniform(300, 3000)),
                     amount_sigma=float(rng.uniform(0.5, 1.0)), dispute_rate=float(rng.uniform(0.06, 0.15)),
                     days_late_mean=float(rng.uniform(*late)), ignore_share=float(rng.uniform(0.01, 0.08)),
                     on_due_date_share=float(rng.uniform(0.2, 0.5)), dispute_resolution_days=resolution)
    return parse_scenario(raw, str(KNOWN))


HEADER = ["Company Code", "Customer", "Customer Name", "Document Date", "Invoice", "Document Date", "Due Date",
          "Clear Date", "Amount", "Currency", "Disputed", "Channel"]


def write_messy_export(frame: pd.DataFrame, path: Path) -> Path:
    """A canonical ledger frame (history.run_ledger) written as an ERP clearing export comes.

    "Document Date" heads two columns: a day-first posting date (the day after issue), then the ISO invoice date.
    Due dates are numbers (``20240131.0``), clearing dates date-times at midnight. Customer ``C12`` is ``0000012``
    on its even invoices and ``12`` on its odd ones; every USD_EVERY-th customer is billed in dollars.
    """
    lines = [",".join(f'"{h}"' for h in HEADER)]
    for r in frame.itertuples():
        number = int(r.customer_id[1:])
        seq = int(r.invoice_id.split("-")[1])
        dollars = number % USD_EVERY == 0
        amount = round(r.amount / RATE, 2) if dollars else r.amount
        paid = "" if pd.isna(r.paid_date) else f"{r.paid_date:%Y-%m-%d} 00:00:00"
        lines.append(",".join([
            "1000", f"{number:07d}" if seq % 2 == 0 else str(number), f"Customer {number} Ltd",
            f"{r.issue_date + pd.Timedelta(days=1):%d/%m/%Y}", f"INV-{r.invoice_id}", f"{r.issue_date:%Y-%m-%d}",
            f"{r.due_date:%Y%m%d}.0", paid, f"{amount:.2f}", "USD" if dollars else "EUR",
            "Y" if r.disputed == "yes" else "N", "E-mail" if r.channel == "electronic" else "Post"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_mapping(path: Path, currency: str = "fx") -> Path:
    """The mapping file a user writes for that export: ``fx`` converts the dollars, ``EUR`` keeps the euros only."""
    keep = f"[fx]\nUSD = {RATE}\n" if currency == "fx" else ""
    path.write_text(
        ("" if currency == "fx" else f'currency = "{currency}"\n')
        + 'normalise_ids = "strip-leading-zeros"\n\n[columns]\ncustomer_id = "Customer"\n'
        'customer_name = "Customer Name"\ninvoice_id = "Invoice"\nissue_date = "Document Date#2"\n'
        'due_date = "Due Date"\npaid_date = "Clear Date"\namount = "Amount"\ncurrency = "Currency"\n'
        'disputed = "Disputed"\nchannel = "Channel"\n\n[date_formats]\nissue_date = "iso"\n'
        'due_date = "%Y%m%d.0"\npaid_date = "%Y-%m-%d %H:%M:%S"\n\n' + keep, encoding="utf-8")
    return path


def messy_ledger(scn: collectsim.Scenario, seed: int, folder: Path, currency: str = "fx"
                 ) -> tuple[pd.DataFrame, Ledger]:
    """(the run's canonical ledger, the messy export of it read back through its mapping file)."""
    frame = run_ledger(collectsim.simulate(scn, "as-is", seed=seed), channels=CHANNELS)
    csv = write_messy_export(frame, folder / f"export-{seed}.csv")
    ledger = read_ledger(csv, LedgerOptions.from_toml(write_mapping(folder / f"export-{seed}.toml", currency)))
    return frame, ledger


# --- the generator reads back as the run it came from -----------------------------------------------------------

def test_the_messy_export_reads_back_as_the_run_it_came_from(tmp_path):
    scn = messy_scenario(customers=20)
    frame, ledger = messy_ledger(scn, 3, tmp_path)
    f = ledger.frame
    assert len(f) == len(frame) and not len(ledger.rejects) and not len(ledger.skipped)
    assert ledger.date_formats == {"issue_date": "iso", "due_date": "%Y%m%d.0", "paid_date": "%Y-%m-%d %H:%M:%S"}
    assert f["customer_id"].nunique() == frame["customer_id"].nunique()  # 0000012 and 12 are one customer
    assert any("appear under several raw ids" in w for w in ledger.warnings)
    assert ledger.notes and "converted into EUR" in ledger.notes[0]
    by_id = f.set_index(f["invoice_id"].str[4:]).loc[frame["invoice_id"]]
    for c in ("issue_date", "due_date", "paid_date"):
        assert (by_id[c].to_numpy() == pd.to_datetime(frame[c]).to_numpy()).sum() == frame[c].notna().sum(), c
    assert np.abs(by_id["amount_cents"].to_numpy() - np.rint(frame["amount"].to_numpy() * 100)).max() <= 1
    assert (by_id["disputed"].to_numpy(dtype=bool) == (frame["disputed"] == "yes").to_numpy()).all()
    assert (by_id["channel"].to_numpy() == frame["channel"].to_numpy()).all()
    euros = read_ledger(tmp_path / "export-3.csv", LedgerOptions.from_toml(write_mapping(tmp_path / "eur.toml", "EUR")))
    dollars = frame["customer_id"].str[1:].astype(int) % USD_EVERY == 0
    assert len(euros.frame) == (~dollars).sum() and len(euros.skipped) == dollars.sum()


# --- in-sample and out-of-time on a few ledgers ----------------------------------------------------------------

@pytest.mark.parametrize("seed, currency", [(31, "fx"), (32, "fx"), (33, "EUR")])
def test_a_messy_export_with_every_feature_is_fitted_and_reproduced_in_sample(tmp_path, seed, currency):
    """In-sample: share paid late within 3 points, median days to pay within 2, 90th percentile within 4 (and the
    share paid on the due date within 3 points). The features are found (terms mix, a spike, payment runs), and the
    disputed invoices pay later than the others in the simulation as in the history."""
    scn = messy_scenario()
    _, ledger = messy_ledger(scn, seed, tmp_path, currency)
    cal = Calibrator(scn.policy("as-is"), iterations=4, bootstrap=0, seed=3).fit(ledger)
    for g in cal.groups_:
        true = next(s for s in scn.portfolio.segments if s.name == g.name)
        assert set(g.tables["terms_mix"]) == set(true.terms_mix), g.tables
        assert "payment_weekdays" in g.tables and "on_due_date_share" in g.values, (g.tables, g.values)
        print(g.name, {k: round(v, 3) for k, v in g.values.items()}, g.tables)
    v = validate(cal, ledger, seed=99, out_of_time=False)
    print("in-sample", {k: (v.history[k], v.simulated[k]) for k in TOLERANCE})
    for key, tol in TOLERANCE.items():
        assert abs(v.simulated[key] - v.history[key]) <= tol, ("in-sample", key, v.history[key], v.simulated[key])
    # the dispute effect points the same way; a group's own figures are not held to the portfolio's tolerances (about
    # 150 settled disputed invoices spread over months: their median missed by -7.5 to +4 days over 15 ledgers)
    h, s = v.history["by_disputed"], v.simulated["by_disputed"]
    print("disputed minus not", h["yes"]["days_to_pay_p50"] - h["no"]["days_to_pay_p50"],
          s["yes"]["days_to_pay_p50"] - s["no"]["days_to_pay_p50"])
    assert h["yes"]["days_to_pay_p50"] > h["no"]["days_to_pay_p50"] and \
        s["yes"]["days_to_pay_p50"] > s["no"]["days_to_pay_p50"]


@pytest.mark.parametrize("seed, currency", [(34, "fx"), (35, "EUR"), (36, "fx")])
def test_a_messy_export_fitted_on_its_first_two_thirds_pays_like_its_last_third(tmp_path, seed, currency):
    """Out of time (validation.py: fitted on the invoices issued in the first two thirds, as if exported then; checked
    on those issued after): the share paid late within 5 points, on ledgers of 300 customers a segment.

    Why that size: on ledgers of 80 customers a segment (about 300 settled invoices in the last third) the gap over 12
    seeds averaged 0.0 points with a standard deviation of 4.3 (within 5 points in 10 of 12): no bias, but the
    check's own noise (the held-out third's sampling and the refit's due-date share) is near the tolerance, so it
    would test chance as much as the fit. With 300 a segment (about 1,200 settled invoices in the last third) the gap
    over 10 other seeds averaged -1.0 points, standard deviation 1.5, largest 3.7."""
    scn = messy_scenario(customers=300)
    _, ledger = messy_ledger(scn, seed, tmp_path, currency)
    cal = Calibrator(scn.policy("as-is"), iterations=4, bootstrap=0, seed=3).fit(ledger)
    oot = validate(cal, ledger, seed=99).out_of_time
    print("out-of-time", oot["fitted_on"], {k: (oot["history"][k], oot["simulated"][k]) for k in TOLERANCE})
    assert abs(oot["simulated"]["share_late"] - oot["history"]["share_late"]) <= OUT_OF_TIME_SHARE_LATE, oot


# --- 95% intervals over 50 ledgers -----------------------------------------------------------------------------

#: The parameters whose intervals must cover the truth (the dispute resolution time is one for the portfolio).
COVERED = ("orders_per_year", "amount_median", "amount_sigma", "dispute_rate", "days_late_mean", "ignore_share",
           "dispute_resolution_days", "days_late_sd_total")


@pytest.mark.slow
def test_on_50_messy_ledgers_the_95_percent_intervals_cover_the_truth_in_at_least_90_percent(tmp_path):
    """50 messy exports, each of the messy portfolio with its key parameters drawn afresh, fitted as the calibrator's
    defaults fit (4 rounds), with sim_scale 2 and 100 bootstrap resamples as the plain coverage test does. Checked for
    both segments (100 intervals per key; the portfolio's one dispute resolution time counted once a ledger; the
    total spread of habits is sqrt(between^2 + within^2)). The due-date share, terms mix and weekdays have no interval:
    their errors are printed. Measured (issue 22): coverage 0.91-0.99 for every key; before the intervals took the
    statistics' measured response (Calibrator._measure_slopes) the habit covered 0.86, the set-aside share 0.87, the
    spread 0.80 and the dispute resolution time 0.78."""
    hits: dict[str, list[bool]] = {k: [] for k in COVERED}
    errors: dict[str, list[float]] = {"on_due_date_share": [], "terms_mix": [], "payment_weekdays": []}
    for draw in range(1, 51):
        scn = messy_scenario(customers=40, draw=draw)
        _, ledger = messy_ledger(scn, 2000 + draw, tmp_path, "fx" if draw % 5 else "EUR")
        cal = Calibrator(scn.policy("as-is"), sim_scale=2, bootstrap=100, seed=draw).fit(ledger)
        for g in cal.groups_:
            true = next(s for s in scn.portfolio.segments if s.name == g.name)
            for k in COVERED:
                if k == "dispute_resolution_days" and g is not cal.groups_[0]:
                    continue
                lo, hi = g.intervals[k]
                value = (np.hypot(true.days_late_sd_between, true.days_late_sd_within) if k == "days_late_sd_total"
                         else getattr(true, k))
                hits[k].append(bool(lo <= value <= hi))
            errors["on_due_date_share"].append(g.values.get("on_due_date_share", 0.0) - true.on_due_date_share)
            mix = g.tables.get("terms_mix", {})
            errors["terms_mix"].append(max(abs(mix.get(t, 0.0) - share) for t, share in true.terms_mix.items()))
            errors["payment_weekdays"].append(float(np.abs(np.subtract(
                g.tables.get("payment_weekdays", [1 / 7] * 7), true.payment_weekdays)).max()))
    coverage = {k: float(np.mean(v)) for k, v in hits.items()}
    print("coverage", coverage)
    print("errors (mean, sd, largest absolute)",
          {k: (float(np.mean(v)), float(np.std(v)), float(np.abs(v).max())) for k, v in errors.items()})
    assert all(coverage[k] >= 0.90 for k in COVERED), coverage
