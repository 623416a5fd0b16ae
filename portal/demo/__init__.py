"""Fictional demo data: generated borrowers and the loader that stores them."""
