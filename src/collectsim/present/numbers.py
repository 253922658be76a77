"""Numbers as people read them: a few significant digits, thousands separated, never scientific notation.

Tables printed for people (the fitted parameters, a sweep, a validation) go through :func:`plain` and
:func:`plain_table`, so nobody meets ``1.83e+03`` or ``NaN`` on a terminal.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import pandas as pd

MISSING = "n/a"


def plain(value: object, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits (all of a number's whole part), 'n/a' when missing."""
    if value is None or isinstance(value, bool) or not isinstance(value, Real):
        return MISSING if value is None else str(value)
    if isinstance(value, Integral):
        return f"{int(value):,}"
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        return MISSING if math.isnan(x) else ("-" if x < 0 else "") + "infinite"
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{round(x, decimals):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def plain_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """The frame as text without its index, every number through :func:`plain`."""
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_numeric_dtype(shown[column]) and not pd.api.types.is_bool_dtype(shown[column]):
            shown[column] = [plain(v, digits) for v in shown[column].tolist()]
    return shown.to_string(index=False)
