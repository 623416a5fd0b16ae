"""Writes of the reports feature: every export of personal data goes to the audit log."""

from portal.audit.operations import record


def record_export(kind: str, target, summary: str, actor=None) -> None:
    """Log that ``target`` left the portal as a PDF (docs/product.md: every export is audited)."""
    record(f"report.{kind}", target, summary, actor=actor)
