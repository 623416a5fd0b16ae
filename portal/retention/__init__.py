"""How long the borrower's data is kept: the daily retention run, legal holds and
anonymisation (docs/privacy.md)."""
