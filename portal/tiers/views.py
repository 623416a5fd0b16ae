"""Routes of the tiers feature."""

from flask import Blueprint

bp = Blueprint("tiers", __name__)
