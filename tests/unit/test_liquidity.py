"""Liquidity: monthly states with seasonality, insolvency, and an economy-wide shock."""

import numpy as np

import collectsim
from collectsim import EventKind
from collectsim.model.liquidity import DISTRESSED, HEALTHY, INSOLVENT, NEVER, STRAINED, liquidity_paths
from helpers import small_data

# One-sided 5% critical value of F with (19, 19) degrees of freedom.
F_39_39_P05 = 1.70  # 95% point of the F distribution with 39 and 39 degrees of freedom (tables)


def _scenario(**segment):
    data = small_data()
    data["horizon"]["measured_days"] = 360
    for seg in data["portfolio"]["segments"]:
        seg.update(segment)
    return collectsim.parse_scenario(data)


def test_paths_only_move_between_neighbouring_states_and_insolvency_is_final():
    scenario = _scenario(strain_rate=0.3, distress_rate=0.3, insolvency_rate=0.2)
    segment = np.zeros(2000, dtype=np.int64)
    paths = liquidity_paths(scenario, 3, segment)
    before, after = paths.states[:, :-1], paths.states[:, 1:]
    assert not np.any((before == HEALTHY) & (after == DISTRESSED))
    assert not np.any((before == HEALTHY) & (after == INSOLVENT))
    assert not np.any((before == INSOLVENT) & (after != INSOLVENT))
    failed = paths.insolvency_day < NEVER
    assert failed.sum() > 100
    for c in np.flatnonzero(failed)[:50]:
        block = paths.insolvency_day[c] // 30
        assert paths.states[c, block] == INSOLVENT and paths.states[c, block - 1] == DISTRESSED
        assert paths.state(int(c), int(paths.insolvency_day[c]) - 1) == DISTRESSED


def test_strain_peaks_in_the_seasonal_month():
    scenario = _scenario(strain_rate=0.05, seasonality=0.9, seasonal_peak_month=7)
    paths = liquidity_paths(scenario, 5, np.zeros(5000, dtype=np.int64))
    newly = (paths.states[:, :-1] == HEALTHY) & (paths.states[:, 1:] == STRAINED)
    rate = newly.sum(axis=0) / np.maximum((paths.states[:, :-1] == HEALTHY).sum(axis=0), 1)
    months = [(i * 30 + 45) * 12 // 365 % 12 + 1 for i in range(len(rate))]  # month of each block's middle
    by_month = {m: np.mean([r for r, mm in zip(rate, months) if mm == m]) for m in set(months)}
    assert by_month[7] > 3 * by_month[1]


def test_liquidity_is_the_same_under_every_policy():
    scenario = _scenario(strain_rate=0.2, distress_rate=0.3, insolvency_rate=0.3)
    base = scenario.policy()
    other = base.with_values({"reminders": {"steps": [{"offset": 1, "channel": "phone", "tone": "final"}]}})
    a, b = (collectsim.simulate(scenario, p).events for p in (base, other))
    insolvent = [sorted(zip(log["day"][log["kind"] == EventKind.INSOLVENT],
                            log["customer"][log["kind"] == EventKind.INSOLVENT])) for log in (a, b)]
    assert insolvent[0] == insolvent[1] and len(insolvent[0]) > 3


def test_insolvency_loses_every_open_balance_and_ends_trading():
    scenario = _scenario(strain_rate=0.3, distress_rate=0.4, insolvency_rate=0.4)
    result = collectsim.simulate(scenario)
    ev, inv = result.events.to_frame(), result.invoices
    failed = ev[ev["kind"] == "insolvent"].set_index("customer")["day"]
    assert len(failed) > 5
    losses = ev[ev["kind"] == "insolvency_loss"]
    assert (losses["day"].to_numpy() == failed.loc[losses["customer"]].to_numpy()).all()
    for customer, day in failed.items():
        assert not np.any((inv["customer"] == customer) & (inv["issue_day"] >= day))  # no orders after
        later = ev[(ev["customer"] == customer) & (ev["day"] > day) & (ev["kind"] == "payment")]
        assert later.empty  # and no payments
    m = result.metrics
    assert m.written_off >= losses[inv["issue_day"][losses["invoice"]] >= 60]["amount"].sum() > 0


def test_strained_customers_pay_later_and_part_pay_more():
    scenario = _scenario(strain_rate=0.25, strain_recovery_rate=0.3, distress_rate=0.0, partial_share=0.0)
    result = collectsim.simulate(scenario)
    paths = liquidity_paths(scenario, result.seed, result.customers.segment)
    inv = result.invoices
    strained = np.array([paths.state(int(c), int(d)) == STRAINED for c, d in zip(inv["customer"], inv["issue_day"])])
    pays = result.events.to_frame()
    pays = pays[pays["kind"] == "payment"]
    last = pays.groupby("invoice")["day"].max()
    late = (last - inv["due_day"][last.index]).groupby(strained[last.index]).mean()
    assert late[True] > late[False] + 5
    parts = pays.groupby("invoice").size()
    share_split = (parts > 1).groupby(strained[parts.index]).mean()
    assert share_split[True] > share_split[False]


def test_an_economy_wide_shock_widens_the_spread_of_bad_debt():
    """Stylised fact over 40 seeds: variance of the bad-debt ratio grows, beyond a 5% F test.

    (20 seeds gave the test too little power: a variance ratio of about 2 sits at the 5% point of F(19, 19).)"""
    spreads = {}
    for shock in (False, True):
        data = small_data()
        data["horizon"]["measured_days"] = 360
        data["economy"] = {"shock": shock, "shock_start_day": 90, "shock_months": 6, "shock_strain_multiplier": 8.0}
        scenario = collectsim.parse_scenario(data)
        spreads[shock] = np.array([collectsim.simulate(scenario, seed=k).metrics.bad_debt_ratio for k in range(1, 41)])
    assert spreads[True].mean() > spreads[False].mean()
    assert spreads[True].var(ddof=1) / spreads[False].var(ddof=1) > F_39_39_P05
