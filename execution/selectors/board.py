"""The order board's rows: every open order's plan vs actual now, filtered and sorted as
the board page and the board API ask (one selection, so both show the same rows)."""

from datetime import datetime

from planning.selectors.risk import delivery_risks

from ..engines.progress import GREEN, RED, YELLOW
from .progress import ACTIVE, LiveOrder, progress_compute

SORTS = {
    "due": None,  # the selector's order: due date, priority, number
    "worst": lambda o: (o.progress.attainment_pct, -o.progress.delay_hours, o.row["due_date"]),
    "delay": lambda o: (-o.progress.delay_hours, o.row["due_date"]),
}
FLAGS = {
    "lagging": lambda o: o.progress.lagging,
    "delayed": lambda o: o.progress.delayed,
    "attention": lambda o: o.progress.lagging or o.progress.delayed,
    # Late against the due date or at risk by the one delivery-risk figure
    # (planning/selectors/risk.py), as the order list's "At risk only".
    "at_risk": lambda o: bool(o.risk and o.risk.at_risk),
}


def board_select(
    *, now: datetime, work_center: str = "", status: str = "", flag: str = "", sort: str = "due"
) -> tuple[list[LiveOrder], dict]:
    """(rows, counts): the open orders (of one status, at one work center) with their
    progress now and their delivery risk (`.risk`), those with `flag` only, in `sort` order;
    the counts by colour, lagging, delayed and at risk cover every order before the flag
    filter. Unknown values are the caller's to
    refuse; here they are ignored."""
    orders = progress_compute(
        now=now,
        statuses=(status,) if status in ACTIVE else ACTIVE,
        work_center=work_center or None,
    )
    # Each row carries its delivery risk, read in one query for every order in view.
    risks = delivery_risks([o.progress.id for o in orders], now=now)
    for o in orders:
        o.risk = risks.get(o.progress.id)
    counts = {
        "total": len(orders),
        GREEN: sum(1 for o in orders if o.progress.colour == GREEN),
        YELLOW: sum(1 for o in orders if o.progress.colour == YELLOW),
        RED: sum(1 for o in orders if o.progress.colour == RED),
        "lagging": sum(1 for o in orders if o.progress.lagging),
        "delayed": sum(1 for o in orders if o.progress.delayed),
        "at_risk": sum(1 for o in orders if o.risk and o.risk.at_risk),
    }
    if flag in FLAGS:
        orders = [o for o in orders if FLAGS[flag](o)]
    if SORTS.get(sort) is not None:
        orders.sort(key=SORTS[sort])
    return orders, counts
