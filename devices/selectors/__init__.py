"""Reads of devices for pages, API and reports, with constant query counts."""
