"""Record plausibility: when a production event is believable enough to book at once.

An event is held for a supervisor's signed approval (see `approvals.py`) instead of booked
when
- it is backdated: its `occurred_at` lies before the start of the shift now running at its
  task's work center, or more than EXECUTION_BACKDATE_MAX_HOURS (12) hours back, whichever
  is later (between shifts, at a work center without shifts, and with
  EXECUTION_BACKDATE_FROM_SHIFT_START off, only the hours count);
- it over-delivers: the good and scrap reported on the operation, this event's included,
  would pass the order quantity plus the operation's tolerance (its routing step's
  `over_delivery_pct`, else EXECUTION_OVER_DELIVERY_PCT, 10 %).

The checks only read; `events.event_validate` asks them last, after every rule that refuses
an event outright, so an event is held only if it could be booked.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_noop

from core.texts import Text
from resources.selectors.calendar import site_time_zone, work_center_shift_start

from ..models import EventApproval, ProductionEvent, Task


class HeldForApproval(Exception):
    """The event is plausible only with a supervisor's approval; nothing is booked."""

    def __init__(self, reasons: list[str], text: Text, task: Task):
        super().__init__(text.english())
        self.reasons = reasons
        self.text = text  # stored with the approval, shown in each reader's language
        self.task = task

    @property
    def message(self) -> str:
        return self.text.render()


# The sentences a held event is kept with (core/texts.py): one reason, or both.
WAITING_ONE = gettext_noop("Waiting for supervisor approval: %(first)s.")
WAITING_TWO = gettext_noop("Waiting for supervisor approval: %(first)s; %(second)s.")
BACKDATED = gettext_noop(
    "occurred_at %(occurred)s is before %(cutoff)s, the start of the current shift "
    "(at most %(hours)s h back)"
)
OVER_DELIVERY = gettext_noop(
    "good + scrap would reach %(total)s of %(planned)s planned "
    "(tolerance %(pct)s %%: at most %(limit)s)"
)


def backdate_hours() -> Decimal:
    return Decimal(str(getattr(settings, "EXECUTION_BACKDATE_MAX_HOURS", 12)))


def over_delivery_pct(operation) -> Decimal:
    """The share (in %) an operation may make beyond its order's quantity without approval."""
    if operation.over_delivery_pct is not None:
        return Decimal(operation.over_delivery_pct)
    return Decimal(str(getattr(settings, "EXECUTION_OVER_DELIVERY_PCT", 10)))


def backdate_possible(occurred: datetime, now: datetime) -> bool:
    """Whether an event that occurred at `occurred` may be backdated: the cutoff is at most
    `now` (the shift now running began by now), so only an earlier event can be."""
    return occurred < now or backdate_hours() < 0


def backdate_cutoff(work_center, now: datetime, *, calendar=None) -> datetime:
    """The earliest `occurred_at` booked without approval at a work center (`calendar`: its
    shifts and holidays, if read already; see `work_center_shift_start`)."""
    cutoff = now - timedelta(hours=float(backdate_hours()))
    if not getattr(settings, "EXECUTION_BACKDATE_FROM_SHIFT_START", True):
        return cutoff
    began = work_center_shift_start(work_center, now, calendar=calendar)
    if began is not None and began > cutoff:
        cutoff = began
    return cutoff


def event_plausibility_check(
    *,
    kind: str,
    task: Task,
    good: Decimal,
    scrap: Decimal,
    occurred: datetime,
    cutoff: datetime,
    reported: Decimal,
) -> None:
    """Raise HeldForApproval when the event needs a supervisor's approval.

    `cutoff`: see `backdate_cutoff`; `reported`: good + scrap already on the task."""
    reasons, parts = [], []
    if occurred < cutoff:
        reasons.append(EventApproval.Reason.BACKDATED.value)
        tz = site_time_zone(task.operation.work_center.area.site)
        parts.append(
            Text(
                BACKDATED,
                occurred=f"{occurred.astimezone(tz):%Y-%m-%d %H:%M}",
                cutoff=f"{cutoff.astimezone(tz):%Y-%m-%d %H:%M}",
                hours=backdate_hours(),
            )
        )
    if (good or scrap) and kind in (ProductionEvent.Kind.REPORT, ProductionEvent.Kind.COMPLETE):
        planned = task.order.quantity
        pct = over_delivery_pct(task.operation)
        limit = planned * (1 + pct / 100)
        total = reported + good + scrap
        if total > limit:
            reasons.append(EventApproval.Reason.OVER_DELIVERY.value)
            parts.append(Text(OVER_DELIVERY, total=total, planned=planned, pct=pct, limit=limit))
    if reasons:
        text = (
            Text(WAITING_ONE, first=parts[0])
            if len(parts) == 1
            else Text(WAITING_TWO, first=parts[0], second=parts[1])
        )
        raise HeldForApproval(reasons, text, task)
