"""Inspection plans and records, gates, trace codes, genealogy (built in later issues)."""
