"""Showing results: metric tables, plots, narratives and the HTML report."""
