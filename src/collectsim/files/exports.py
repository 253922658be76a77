"""Files for people: CSV that spreadsheets open safely.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` is run as a formula by spreadsheet programs, so a
segment or customer name like ``=HYPERLINK(...)`` in an export could do harm when opened. Text cells
that start so get a leading apostrophe; numbers are left alone (a negative number stays a number).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """The value, with a leading apostrophe if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot start a formula."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, (pd.CategoricalDtype, pd.StringDtype)):
            out[column] = out[column].astype(object).map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as a spreadsheet-safe CSV without the index, atomically (complete or absent); return
    the path."""
    from collectsim.files.safe_output import atomic

    path = Path(path)
    safe = spreadsheet_safe(frame)
    with atomic(path) as tmp:
        safe.to_csv(tmp, index=False)
    return path
