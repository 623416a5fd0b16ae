"""Models of the networking feature."""
