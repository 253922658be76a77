"""Conservation of money, exactly in cents, over random valid scenarios and policies (hypothesis).

Policies include reminders, discounts, instalment plans (offered, or on request), extended terms with
milestones, statutory fees, settlements, mediation, agency and legal action, credit hold, credit checks
and limits on new customers, and write-offs; segments churn; the team may be unlimited or small;
customers go through liquidity states, insolvency and an economy-wide shock; terms may run from
the end of the month and payments may wait for a payment run.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import collectsim
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind
from collectsim.results.metrics import NET_VALUE_COMPONENTS, net_value_of


def _segment(i):
    return st.fixed_dictionaries({
        "name": st.just(f"seg{i}"),
        "customers": st.integers(1, 12),
        "orders_per_year": st.floats(1, 60),
        "amount_median": st.floats(0.01, 50_000),
        "amount_sigma": st.floats(0, 2),
        "terms_days": st.integers(0, 90),
        "days_late_mean": st.floats(-20, 120),
        "days_late_sd_between": st.floats(0, 30),
        "days_late_sd_within": st.floats(0, 30),
        "ignore_share": st.floats(0, 1),
        "responsiveness": st.floats(0, 5),
        "discount_appetite": st.floats(0, 1),
        "dispute_rate": st.floats(0, 1),
        "dispute_resolution_days": st.floats(1, 90),
        "credit_note_share": st.floats(0, 1),
        "credit_note_fraction": st.floats(0, 1),
        "partial_share": st.floats(0, 1),
        "partial_gap_days": st.floats(1, 60),
        "goodwill_baseline": st.floats(0, 1),
        "goodwill_sensitivity": st.floats(0, 5),
        "plan_acceptance": st.floats(0, 1),
        "instalment_reliability": st.floats(0, 1),
        "fee_payment_share": st.floats(0, 1),
        "settlement_acceptance": st.floats(0, 1),
        "churn_per_year": st.floats(0, 1),
        "recoverability": st.floats(0, 5),
        "strain_rate": st.floats(0, 1),
        "distress_rate": st.floats(0, 1),
        "insolvency_rate": st.floats(0, 1),
        "seasonality": st.floats(0, 1),
        "terms_end_of_month": st.booleans(),
        "payment_run": st.sampled_from(["any", "weekly", "fortnightly", "monthly"]),
        "payment_run_day": st.integers(1, 7),
        "new_customers_per_year": st.sampled_from([0.0, 5.0, 30.0]),
    })


def _milestones(draw) -> list[dict]:
    """One to four milestones on increasing days, with shares that add up to 1."""
    days = sorted(draw(st.sets(st.integers(1, 200), min_size=1, max_size=4)))
    weights = [draw(st.integers(1, 10)) for _ in days]
    shares = [w / sum(weights) for w in weights]
    shares[-1] = 1.0 - sum(shares[:-1])
    return [{"after_days": d, "share": s} for d, s in zip(days, shares)]


@st.composite
def _policy(draw, segment_names):
    offsets = sorted(draw(st.sets(st.integers(-30, 200), max_size=6)))
    steps = [{"offset": o, "channel": draw(st.sampled_from(["email", "letter", "phone"])),
              "tone": draw(st.sampled_from(["friendly", "firm", "final"]))} for o in offsets]
    policy = {
        "reminders": {"steps": steps, "pause_on_dispute": draw(st.booleans())},
        "discount": {"rate": draw(st.floats(0, 0.2)), "window_days": draw(st.integers(0, 60))},
        "write_off": {"age_days": draw(st.integers(1, 300))},
        "plans": {"offer": draw(st.booleans()), "after_days_overdue": draw(st.integers(0, 90)),
                  "instalments": draw(st.integers(1, 12)), "interval_days": draw(st.integers(1, 60)),
                  "down_payment": draw(st.floats(0, 0.9)), "missed_tolerance": draw(st.integers(0, 3)),
                  "on_default": draw(st.sampled_from(["resume", "restart", "escalate", "write_off"])),
                  "on_request": draw(st.booleans())},
        "extended_terms": {"offer": draw(st.booleans()), "after_days_overdue": draw(st.integers(0, 90)),
                           "milestones": _milestones(draw),
                           "on_default": draw(st.sampled_from(["resume", "restart", "escalate", "write_off"]))},
        "fees": {"enforce": draw(st.booleans()), "claim_at_days_overdue": draw(st.integers(0, 120)),
                 "interest_margin": draw(st.floats(0, 0.5)), "fixed_compensation": draw(st.floats(0, 500))},
        "settlement": {"offer": draw(st.booleans()), "after_days_overdue": draw(st.integers(0, 200)),
                       "forgive": draw(st.floats(0, 0.95))},
        "escalation": {"mediation": draw(st.booleans()), "mediation_after_days": draw(st.integers(1, 60)),
                       "agency": draw(st.booleans()), "agency_after_days_overdue": draw(st.integers(0, 120)),
                       "agency_fee": draw(st.floats(0, 1)), "legal": draw(st.booleans()),
                       "legal_after_days_overdue": draw(st.integers(0, 200)),
                       "legal_min_balance": draw(st.floats(0, 5000)), "credit_hold": draw(st.booleans()),
                       "credit_hold_after_days_overdue": draw(st.integers(0, 120))},
    }
    policy["onboarding"] = {"credit_check": draw(st.booleans()), "refuse_share": draw(st.floats(0, 1)),
                            "credit_limit": draw(st.sampled_from([0.0, 500.0, 5000.0]))}
    if draw(st.booleans()):
        policy["segments"] = {draw(st.sampled_from(segment_names)): {
            "discount": {"rate": draw(st.floats(0, 0.2))}, "write_off": {"age_days": draw(st.integers(1, 90))}}}
    return policy


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 3))
    segments = [draw(_segment(i)) for i in range(n)]
    return {
        "team": {"staff": draw(st.sampled_from([0.0, 0.01, 0.05, 0.5])),
                 "minutes_dispute": draw(st.floats(0, 600))},
        "economy": {"shock": draw(st.booleans()), "shock_start_day": draw(st.integers(0, 200)),
                    "shock_months": draw(st.integers(1, 12))},
        "behaviour": {"reputation_spillover": draw(st.sampled_from([0.0, 0.3]))},
        "economics": {"gross_margin": draw(st.floats(0, 1)), "cost_of_capital": draw(st.floats(0, 0.3)),
                      "acquisition_cost": draw(st.sampled_from([0.0, 250.0])),
                      "customer_lifetime_years": draw(st.floats(0, 10))},
        "seed": draw(st.integers(0, 2**40)),
        "horizon": {"warmup_days": draw(st.integers(0, 60)), "measured_days": draw(st.integers(1, 120)),
                    "runoff_days": draw(st.integers(0, 150))},
        "portfolio": {"segments": segments},
        "policies": {"p": draw(_policy([s["name"] for s in segments]))},
    }


@settings(max_examples=60)
@given(scenarios())
def test_money_is_conserved_per_invoice_and_in_total(data):
    result = collectsim.simulate(collectsim.parse_scenario(data))
    inv, ev = result.invoices, result.events
    # Per invoice, recomputed here from the log: amount = reductions + balance, nothing negative.
    reducing = np.isin(ev["kind"], BALANCE_REDUCING)
    reduced = np.zeros(len(inv), dtype=np.int64)
    np.add.at(reduced, ev["invoice"][reducing], ev["amount"][reducing])
    assert (inv["amount"] == reduced + inv["balance"]).all()
    assert (inv["balance"] >= 0).all() and (ev["amount"] >= 0).all() and (inv["amount"] >= 1).all()
    # In total, over the cohort, as the metrics report it.
    m = result.metrics
    assert m.invoiced == (m.cash_collected - m.fees_collected) + m.discounts_granted + m.credit_notes \
        + m.settlements_forgiven + m.written_off + m.outstanding
    assert m.cash_collected >= 0 and m.outstanding >= 0
    # Claimed fees are settled at most once per invoice, paid or waived.
    closed = ev["invoice"][np.isin(ev["kind"], (EventKind.FEES_PAID, EventKind.FEES_WAIVED))]
    assert len(closed) == len(set(closed.tolist()))
    assert set(closed.tolist()) <= set(ev["invoice"][ev["kind"] == EventKind.FEES_CLAIMED].tolist())
    # Net value is its parts added up, exactly; the parts that are costs are never positive.
    parts = m.net_value_components
    assert net_value_of(parts) == m.net_value and list(parts) == list(NET_VALUE_COMPONENTS)
    assert all(parts[c] <= 0 for c in ("cost_of_goods", "collection_costs", "staff_cost", "acquisition_costs",
                                       "future_margin_lost"))
    assert parts["future_margin_lost"] == -m.margin_lost_to_churn
    # Customers: those at the start of the period, plus those taken on, less those who left during it, are those
    # trading at its end -- counted here from the customers' arrival days and the log.
    h = result.scenario.horizon
    left_day = np.full(len(result.customers), np.iinfo(np.int64).max)
    leaving = np.isin(ev["kind"], (EventKind.CHURNED, EventKind.INSOLVENT))
    np.minimum.at(left_day, ev["customer"][leaving], ev["day"][leaving].astype(np.int64))
    onboarded = np.zeros(len(result.customers), dtype=bool)
    onboarded[ev["customer"][ev["kind"] == EventKind.CUSTOMER_ONBOARDED]] = True
    trading = (result.customers.arrival_day == 0) | onboarded

    def active(day: int) -> int:  # trading at the start of ``day``: arrived before it and not left before it
        arrived = (result.customers.arrival_day == 0) | (result.customers.arrival_day < day)
        return int(np.count_nonzero(trading & arrived & (left_day >= day)))

    left = np.count_nonzero(trading & (left_day >= h.measured_start) & (left_day < h.measured_end))
    assert m.customers_at_start == active(h.measured_start)
    assert m.customers_at_start + m.new_customers - left == active(h.measured_end)
