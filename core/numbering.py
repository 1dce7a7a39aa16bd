"""Business document numbers: PREFIX-YYYY-NNNNN, the next after the highest in use."""

from django.db.models import Max
from django.utils import timezone


def number_next(model, code: str, *, field: str = "number", width: int = 5) -> str:
    """The next number of `model` for `code` this year, e.g. MO-2026-00042.

    Callers create the row inside their transaction; the unique constraint on `field` turns
    a rare concurrent clash into an error rather than a duplicate.
    """
    prefix = f"{code}-{timezone.localdate().year}-"
    last = model.objects.filter(**{f"{field}__startswith": prefix}).aggregate(m=Max(field))["m"]
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:0{width}d}"
