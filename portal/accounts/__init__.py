"""Accounts, roles, login sessions and passwords."""
