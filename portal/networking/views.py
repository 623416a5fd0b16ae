"""Routes of the networking feature."""

from flask import Blueprint

bp = Blueprint("networking", __name__)
