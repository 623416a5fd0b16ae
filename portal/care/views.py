"""Routes of the care feature."""

from flask import Blueprint

bp = Blueprint("care", __name__)
