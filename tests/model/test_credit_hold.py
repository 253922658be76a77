"""Credit hold: orders from customers with debt too far past due are refused, and that shows in the results."""

import numpy as np

import collectsim
from helpers import small_data


def _scenario(hold, after=30):
    data = small_data()
    data["policies"]["ladder"]["escalation"] = {"credit_hold": hold, "credit_hold_after_days_overdue": after}
    data["policies"]["ladder"]["write_off"] = {"age_days": 120}
    return collectsim.parse_scenario(data)


def test_refused_orders_come_only_from_customers_with_old_debt():
    result = collectsim.simulate(_scenario(True), seed=2)
    ev = result.events.to_frame()
    refused = ev[ev["kind"] == "order_refused"]
    assert len(refused) > 10 and (refused["amount"] > 0).all()
    # Each refusal costs goodwill unless a worse event on the account this month already did (goodwill follows the
    # account: see collectsim.model.behaviour.period_goodwill_extra).
    assert (refused["goodwill_after"] <= refused["goodwill_before"]).all()
    assert (refused["goodwill_after"] < refused["goodwill_before"]).mean() > 0.5
    inv = result.invoices
    for customer, day in zip(refused["customer"], refused["day"]):
        mine = inv["customer"] == customer
        assert (inv["due_day"][mine] + 30 < day).any()  # some invoice of theirs was over 30 days past due


def test_no_hold_and_an_unreachable_threshold_give_the_same_run():
    off = collectsim.simulate(_scenario(False), seed=4)
    unreachable = collectsim.simulate(_scenario(True, after=3000), seed=4)
    assert off.metrics == unreachable.metrics
    assert off.metrics.sales_refused == 0


def test_credit_hold_trades_sales_for_less_bad_debt_over_seeds():
    """Stopping supply to customers who do not pay lowers what is written off, at a cost in sales."""
    written, invoiced, refused = [], [], []
    for seed in range(6):
        off = collectsim.simulate(_scenario(False), seed=seed).metrics
        on = collectsim.simulate(_scenario(True), seed=seed).metrics
        written.append(on.written_off + on.outstanding - off.written_off - off.outstanding)
        invoiced.append(on.invoiced - off.invoiced)
        refused.append(on.sales_refused)
    assert np.mean(written) < 0 and np.mean(invoiced) < 0 and min(refused) > 0
