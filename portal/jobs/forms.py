"""Forms of the jobs feature."""

from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    """The retry button of a failed job (the CSRF token only)."""
