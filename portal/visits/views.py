"""Routes of the visits feature."""

from flask import Blueprint

bp = Blueprint("visits", __name__)
