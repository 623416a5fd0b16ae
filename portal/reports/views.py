"""Routes of the reports feature."""

from flask import Blueprint

bp = Blueprint("reports", __name__)
