"""Reads of planning for pages, API and reports, one module per topic."""
