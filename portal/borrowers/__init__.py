"""Borrowers (借款人): onboarding, search, accounts and assignment to officers."""
