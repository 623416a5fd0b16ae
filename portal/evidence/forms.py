"""Forms of the evidence feature: pinning a borrower's site; the head's checks below."""
