"""From a company's ledger export to a scenario: reading the ledger, payment histories, fitting and checking."""
