"""Models of the tiers feature."""
