"""Make examples/sample_ledger.csv: one year of invoices simulated from examples/sample_portfolio.toml.

The ledger looks like an accounting export: customer id and name, invoice number, dates, amount,
paid date (empty when still open on the export date), disputed flag and channel. It is synthetic:
the customers and names are made up. Run: .venv/bin/python examples/make_sample_ledger.py
"""

from pathlib import Path

import collectsim
from collectsim.calibration.history import run_ledger, write_ledger

HERE = Path(__file__).parent

if __name__ == "__main__":
    scenario = collectsim.load_scenario(HERE / "sample_portfolio.toml")
    result = collectsim.simulate(scenario, "as-is", seed=2024)
    frame = run_ledger(result, channels={"paper": "paper", "electronic": "electronic"}).drop(columns="segment")
    number = frame["customer_id"].str[1:].astype(int)
    frame.insert(1, "customer_name", [f"Customer {n:03d} Ltd" for n in number])
    frame["customer_id"] = [f"K{n:04d}" for n in number]
    frame["invoice_id"] = [f"INV-{i + 1:05d}" for i in range(len(frame))]
    path = write_ledger(frame, HERE / "sample_ledger.csv")
    print(f"{len(frame)} invoices written to {path}")
