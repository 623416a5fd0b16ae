"""Models of the care feature."""
