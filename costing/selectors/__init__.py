"""Reads of costing for pages, API and reports, with constant query counts."""
