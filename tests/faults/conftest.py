"""Fault tests reuse the visit form of the visit tests."""

from tests.visits.conftest import visit_form  # noqa: F401
