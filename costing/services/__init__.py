"""Writes on costing with business meaning, one module per use case (noun_verb(*, ...))."""
