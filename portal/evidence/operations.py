"""Writes of the evidence feature: the borrower's site; the head's checks below.

They flush and audit; the view's transaction (portal/core/actions.py) commits.
"""
