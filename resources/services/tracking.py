"""Writes on the identities that trace codes name: serial units and material lots.

They come into being where work first names them — a production event that reports a new
serial or lot at the order's first operation, a scanned receipt label, a batch of trace
codes issued for an order — and those apps create them through here.
"""

from core.history import history_bulk_create

from ..models import Item, MaterialLot, SerialUnit


def serial_unit_obtain(*, item: Item, serial: str) -> SerialUnit:
    """The unit of `item` with this serial, created if it is new."""
    # get_or_create: another order of the same item may create it at the same time.
    return SerialUnit.objects.get_or_create(item=item, serial=serial)[0]


def material_lot_obtain(*, item: Item, code: str) -> MaterialLot:
    """The lot of `item` with this code, created if it is new."""
    return MaterialLot.objects.get_or_create(item=item, code=code)[0]


def serial_units_create(*, units: list[SerialUnit]) -> list[SerialUnit]:
    """Insert new units in one statement (their serials are known to be free); returns
    them with their ids; each gets its history row and audit entry."""
    return history_bulk_create(SerialUnit, units)


def material_lots_create(*, lots: list[MaterialLot]) -> list[MaterialLot]:
    """Insert new lots in one statement (their codes are known to be free); returns them
    with their ids; each gets its history row and audit entry."""
    return history_bulk_create(MaterialLot, lots)
