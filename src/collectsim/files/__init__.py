"""Writing files safely: atomic writes, checked output paths, CSV exports (above config only)."""
