"""Models of the visits feature."""
