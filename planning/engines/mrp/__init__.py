"""Material requirements planning: a pure engine (plain data in, plain data out, no ORM).

    from planning.engines.mrp import MrpInput, mrp_run
    result = mrp_run(MrpInput(items=..., bom=..., demands=..., calendar=..., start=today))

See ``model.py`` for the input and output dataclasses, ``engine.py`` for the algorithm and
``calendar.py`` for working-day offsetting; docs/mrp.md for the planner's view.
"""

from .calendar import WorkCalendar
from .engine import MrpInputError, mrp_run
from .model import (
    ActionMessage,
    BomEdge,
    Demand,
    ItemProjection,
    LotPolicy,
    MessageKind,
    MrpInput,
    MrpItem,
    MrpResult,
    OrderKind,
    Peg,
    PegKind,
    PlannedOrder,
    ProjectionRow,
    ScheduledReceipt,
    Source,
    SupplyKind,
    SupplyPeg,
)

__all__ = [
    "ActionMessage",
    "BomEdge",
    "Demand",
    "ItemProjection",
    "LotPolicy",
    "MessageKind",
    "MrpInput",
    "MrpInputError",
    "MrpItem",
    "MrpResult",
    "OrderKind",
    "Peg",
    "PegKind",
    "PlannedOrder",
    "ProjectionRow",
    "ScheduledReceipt",
    "Source",
    "SupplyKind",
    "SupplyPeg",
    "WorkCalendar",
    "mrp_run",
]
