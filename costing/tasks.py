"""Every Celery task of costing: thin, idempotent, retry-safe; none yet."""
