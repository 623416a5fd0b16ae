"""Fixtures of the accounts tests."""

# The care tests' SMS webhook on loopback: password-reset codes are texted through it.
from tests.care.conftest import webhook  # noqa: F401
