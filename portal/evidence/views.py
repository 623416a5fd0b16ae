"""Routes of the evidence feature.

The borrower's site (pin, confirm, decline) comes first; the head's "visits to check"
follow below.
"""

from flask import Blueprint

bp = Blueprint("evidence", __name__)
