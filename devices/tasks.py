"""Every Celery task of devices: thin, idempotent, retry-safe; none yet."""
