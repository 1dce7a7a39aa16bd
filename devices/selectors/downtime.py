"""Reads for the downtime page: whose machines, and their recent stops without a reason."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from core.policy import is_administrator
from core.roles import Role, user_roles
from execution.selectors.ownership import operator_of
from resources.models import Equipment

from ..models import StateInterval

RECENT_DAYS = 7
LIMIT = 100


def downtime_machines(user):
    """The machines a person gives reasons for: an operator's home work center's; a
    supervisor's work centers' (those naming them or nobody); everyone's for the others who
    may look (plant manager, maintenance, administrators)."""
    machines = Equipment.objects.select_related("work_center").order_by("code")
    roles = user_roles(user)
    if is_administrator(user) or roles.intersection((Role.PLANT_MANAGER, Role.MAINTENANCE)):
        return machines
    if Role.SUPERVISOR in roles:
        return machines.filter(
            Q(work_center__supervisor=user) | Q(work_center__supervisor__isnull=True)
        )
    operator = operator_of(user)
    if operator is None or operator.home_work_center_id is None:
        return machines.none()
    return machines.filter(work_center_id=operator.home_work_center_id)


def unexplained_stops(machines, *, days: int = RECENT_DAYS):
    """The stops, idle times and faults of these machines in the last `days` days that have
    no reason yet, newest first (one query)."""
    since = timezone.now() - timedelta(days=days)
    return (
        StateInterval.objects.filter(
            equipment__in=machines,
            state__in=StateInterval.DOWN,
            reason__isnull=True,
            start__gte=since,
        )
        .select_related("equipment__work_center")
        .order_by("-start")[:LIMIT]
    )
