"""Execution services by topic: tasks (release, assignment, dispatch), events, material."""
