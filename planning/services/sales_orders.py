"""Writes on sales orders: the expected delay that the people who talk to the customer see.

Execution works the delay out from its open exceptions (the largest delay they put on any
production order of the sales order) and posts it here, with a note naming the exception
(a stored text, core/texts.py: kept as message id and parameters, read in the reader's
language); a delay of 0 and a blank note clear it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.texts import Text, text_columns

from ..models import SalesOrder

DELAY_NOTE_MAX = SalesOrder._meta.get_field("delay_note").max_length


def sales_order_delay_set(
    *, sales_order: SalesOrder | int, minutes: int, note: Text | str = ""
) -> None:
    """Set a sales order's expected delay in minutes and its note (its English cut to the
    column's 300 characters; a `Text` also keeps its message id and parameters); one UPDATE
    inside the caller's transaction."""
    if minutes < 0:
        raise ValidationError({"expected_delay_minutes": _("A delay is not negative.")})
    pk = sales_order if isinstance(sales_order, int) else sales_order.pk
    SalesOrder.objects.filter(pk=pk).update(
        expected_delay_minutes=minutes, **text_columns("delay_note", note, DELAY_NOTE_MAX)
    )
