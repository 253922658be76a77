"""What a run produces: the event log, the invoice table, metrics (with their labels and units), the letters
each action sent, and a run's result record."""
