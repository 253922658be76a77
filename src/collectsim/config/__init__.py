"""What a user writes: the settings schema, scenarios and policies, read and validated (the lowest layer)."""
