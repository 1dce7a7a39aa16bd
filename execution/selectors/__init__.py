"""Reads of the shop floor for pages, API and reports, one module per topic."""
