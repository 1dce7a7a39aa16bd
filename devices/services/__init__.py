"""Writes on devices with business meaning, one module per use case (noun_verb(*, ...))."""
