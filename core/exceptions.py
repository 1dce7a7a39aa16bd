class StateConflict(Exception):
    """A legal request in the wrong state (completing an operation that has not started)."""
