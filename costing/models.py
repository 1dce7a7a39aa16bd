"""Standard and actual cost (built in later issues)."""
