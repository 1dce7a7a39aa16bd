"""Writes on resources with business meaning, one module per use case."""
