"""Demo, synthetic and benchmark data and runs (development tools, never imported by the site)."""
