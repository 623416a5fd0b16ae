"""Models of the complaints feature."""
