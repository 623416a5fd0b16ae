"""Retention and deletion, legal holds, identity corrections (issue 19)."""
