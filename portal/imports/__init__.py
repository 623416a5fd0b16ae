"""Repayments imported from the company's lending system: a file previewed then applied, a command, a JSON endpoint."""
