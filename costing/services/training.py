"""Training needs raised from flagged variances: slow work (labour efficiency) or scrap on
an operation points at the people who did it; the plant manager is told in the inbox (no
HR role exists: the plant manager passes it on). One need per order, operation and cause:
raising it again changes nothing."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.events import emit
from core.notifications import people_notify
from core.roles import Role
from core.texts import Text
from planning.models import ProductionOrder
from resources.models import Operator

from ..engines import variance as engine
from ..models import TrainingNeed
from ..selectors.variance import VarianceFilter, variances_list
from ..words import KIND_LABELS

# The causes a training need answers: how people worked, not what prices or machines cost.
TRAINING_CAUSES = (engine.LABOUR_EFFICIENCY, engine.SCRAP_LOSS)
TOLD = (Role.PLANT_MANAGER,)
# The need and its notification, read in the reader's language (core/texts.py).
NEED = gettext_noop("Training need — %(order)s: %(cause)s")
NEED_SUBJECT = gettext_noop("[ClosedLoop] Training need")


def training_need_raise(
    *, order: ProductionOrder, step_no: int, cause: str, by=None
) -> tuple[TrainingNeed, bool]:
    """Raise a training need for the flagged `cause` variance of `order` at operation
    `step_no`; returns (the need, whether it is new). The plant manager is notified once."""
    if cause not in TRAINING_CAUSES:
        raise ValidationError(
            {
                "cause": _("A training need answers %(causes)s, not %(cause)s.")
                % {"causes": gettext(" or ").join(TRAINING_CAUSES), "cause": repr(cause)}
            }
        )
    existing = TrainingNeed.objects.filter(order=order, step_no=step_no, cause=cause).first()
    if existing is not None:
        return existing, False
    found = [
        v
        for v in variances_list(VarianceFilter(order=order.number, kind=cause))
        if v.step_no == step_no
    ]
    if not found:
        raise ValidationError(
            {
                "step_no": _("Order %(number)s has no %(kind)s variance at operation %(step)s.")
                % {"number": order.number, "kind": KIND_LABELS.get(cause, cause), "step": step_no}
            }
        )
    variance = found[0]
    if not variance.flagged:
        raise ValidationError(
            {
                "cause": _(
                    "The %(kind)s variance of %(number)s at operation %(step)s is within the "
                    "threshold: nothing to raise."
                )
                % {"number": order.number, "kind": KIND_LABELS.get(cause, cause), "step": step_no}
            }
        )
    text = Text(NEED, order=order.number, cause=Text(variance.cause_id, **variance.cause_params))
    try:
        with transaction.atomic():
            need = TrainingNeed.objects.create(
                order=order,
                step_no=step_no,
                cause=cause,
                text=text.english()[:300],
                text_id=text.msgid,
                text_params=text.params,
                raised_at=timezone.now(),
                raised_by=by if getattr(by, "is_authenticated", False) else None,
            )
            need.operators.set(Operator.objects.filter(user__username__in=variance.operators))
            people = get_user_model().objects.filter(groups__name__in=TOLD, is_active=True)
            people_notify(people.distinct(), text, subject=Text(NEED_SUBJECT))
            audit_record(actor=by, action="costing.training_need.raise", obj=need)
            emit(
                "costing.training_need.raised",
                {
                    "training_need_id": need.pk,
                    "order_id": order.pk,
                    "step_no": step_no,
                    "cause": cause,
                    "operators": list(variance.operators),
                },
            )
    except IntegrityError:  # raised at the same moment by someone else
        return TrainingNeed.objects.get(order=order, step_no=step_no, cause=cause), False
    return need, True
