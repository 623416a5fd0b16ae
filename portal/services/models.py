"""Models of the services feature."""
