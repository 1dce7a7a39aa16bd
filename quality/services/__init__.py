"""Quality services: every write with a business meaning."""
