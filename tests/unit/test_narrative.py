"""The trade-off paragraph says who is better on what, from the signs and significance of the differences."""

from collectsim.present.narrative import _trade_offs


def _row(metric: str, mean: float, significant: bool = True) -> dict:
    return {"metric": metric, "mean": mean, "significant": significant}


def _rows(**values) -> dict:
    names = ("cash_collected", "dso", "bad_debt_ratio", "cost_to_collect", "mean_goodwill", "churned_customers",
             "net_value")
    return {m: _row(m, *values.get(m, (0.0, False))) for m in names}


def test_more_cash_and_fewer_lost_customers_against_a_lower_dso_is_a_trade_off_with_its_mechanism():
    text = _trade_offs(_rows(cash_collected=(5e5, True), dso=(6.0, True), churned_customers=(-11.2, True)), "A", "B")
    assert "A is better on cash, churned customers; B is better on DSO" in text
    assert "A collects more cash although its DSO is higher: it lost about 11.2 fewer customers" in text


def test_better_on_everything_that_differs_is_no_trade_off_even_when_dso_and_bad_debt_are_higher_for_the_other():
    text = _trade_offs(_rows(dso=(8.0, True), bad_debt_ratio=(0.01, True)), "A", "B")
    assert text.startswith("**Trade-offs.** None: B is better on every measure that differs significantly "
                           "(DSO, bad-debt ratio); the others do not separate the policies.")


def test_nothing_significant_says_so():
    assert "None of the headline measures differs significantly" in _trade_offs(_rows(dso=(3.0, False)), "A", "B")
