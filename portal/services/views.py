"""Routes of the services feature."""

from flask import Blueprint

bp = Blueprint("services", __name__)
