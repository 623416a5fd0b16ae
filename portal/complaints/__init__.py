"""Complaints (投诉): severity, deadlines, escalation, resolution and the borrower's verdict."""
