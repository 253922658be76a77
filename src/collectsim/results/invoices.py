"""The invoice table: every invoice issued in a run, one row each.

The row number is the invoice's id inside a run (``invoice`` in the event log). An invoice is also
named by its customer and its sequence number among that customer's invoices (``customer-seq``),
which does not depend on what other customers do; comparisons across policies use that name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ("customer", "seq", "segment", "issue_day", "due_day", "amount", "discount_rate",
           "discount_deadline", "balance")
_DTYPES = (np.int32, np.int32, np.int32, np.int32, np.int32, np.int64, np.float64, np.int32, np.int64)


class InvoiceTable:
    """Columns of invoices; ``balance`` is the principal still outstanding at the end of the run."""

    __slots__ = ("_arrays",)

    def __init__(self, **columns) -> None:
        self._arrays = {name: np.asarray(columns[name], dtype=dtype) for name, dtype in zip(COLUMNS, _DTYPES)}

    def __getitem__(self, column: str) -> np.ndarray:
        return self._arrays[column]

    def __len__(self) -> int:
        return len(self._arrays["customer"])

    def to_frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self._arrays)
        df.insert(0, "invoice", df["customer"].astype(str) + "-" + df["seq"].astype(str))
        return df
