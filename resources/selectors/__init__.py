"""Reads of resources for pages, API, reports and downstream apps."""
