"""Printed reports (PDF) rendered with WeasyPrint from plain data."""
