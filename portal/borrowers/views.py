"""Routes of the borrowers feature."""

from flask import Blueprint

bp = Blueprint("borrowers", __name__)
