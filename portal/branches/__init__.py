"""Branches (网点): the unit that owns staff and borrowers."""
