"""The borrower's rights over their data: consents by purpose, a copy of their data and
correction requests (docs/privacy.md)."""
