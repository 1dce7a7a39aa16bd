"""Legacy sync's reading rules, pure (docs/integration.md, "Legacy sync"): which column feeds
which of our fields, a row read into typed values, and a watermark kept as text with its
type so it can be bound back into the source's query."""

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

PRODUCTION_ORDERS = "production_orders"
STOCK = "stock"

# Quantities are numeric(18, 4) everywhere: below 10^14 (core.parsing.QUANTITY_LIMIT).
QUANTITY_LIMIT = Decimal(10) ** 14


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # code, text, quantity, date, priority, choice
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""


# Our fields per target, in the order the docs list them.
FIELDS: dict[str, tuple[Field, ...]] = {
    PRODUCTION_ORDERS: (
        Field("external_ref", "code", True, help="the legacy system's order number"),
        Field("item", "code", True, help="item code"),
        Field("quantity", "quantity", True, help="above zero"),
        Field("due_date", "date", True, help="a date (or a date-time: its day in the plant)"),
        Field("priority", "priority", help="1 (most urgent) to 9; default 5"),
        Field(
            "status", "choice", choices=("draft", "planned"), help="a new order's; default draft"
        ),
        Field("note", "text"),
    ),
    STOCK: (
        Field("item", "code", True, help="item code"),
        Field("location", "code", True, help="stock location code"),
        Field("quantity", "quantity", True, help="above zero; an issue takes it out"),
        Field("kind", "choice", choices=("receipt", "issue"), help="default receipt"),
        Field("lot", "code", help="lot code, for lot-tracked items"),
        Field("reference", "text", help="kept on the stock move"),
        Field("external_id", "code", help="the legacy row's own id: a row seen again is a no-op"),
    ),
}

TEXT_LIMITS = {"note": 200, "reference": 100, "external_ref": 100, "external_id": 80}


class RowRejected(Exception):
    """A row that cannot be taken; `field` is our field (or the column) at fault."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def field_names(target: str) -> list[str]:
    return [f.name for f in FIELDS[target]]


def mapping_errors(target: str, mapping) -> list[str]:
    """What is wrong with a mapping {source column: our field}; empty when it is good."""
    if not isinstance(mapping, dict):
        return ['Give an object of source column → our field, e.g. {"QTY": "quantity"}.']
    known = field_names(target)
    errors = []
    seen: dict[str, str] = {}
    for column, ours in mapping.items():
        if not isinstance(ours, str) or ours not in known:
            errors.append(f"{column!r} → {ours!r}: our fields are {', '.join(known)}.")
        elif ours in seen:
            errors.append(f"{ours} is fed by both {seen[ours]!r} and {column!r}.")
        else:
            seen[ours] = column
    return errors


def columns_resolve(target: str, mapping: dict, header) -> dict[str, str | None]:
    """Our field → the column that feeds it among `header` (the mapped column, else the
    column of the field's own name, case-blind), or None when there is none."""
    by_lower = {str(h).strip().lower(): h for h in header}
    mapped = {ours: column for column, ours in (mapping or {}).items()}
    found: dict[str, str | None] = {}
    for field in FIELDS[target]:
        wanted = mapped.get(field.name, field.name)
        found[field.name] = by_lower.get(str(wanted).strip().lower())
    return found


def columns_missing(target: str, mapping: dict, columns: dict[str, str | None]) -> list[str]:
    """The required fields no column feeds, each with the column it was looked for in."""
    mapped = {ours: column for column, ours in (mapping or {}).items()}
    return [
        f"{f.name} (column {mapped.get(f.name, f.name)!r})"
        for f in FIELDS[target]
        if f.required and columns[f.name] is None
    ]


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _where(field: Field, column: str) -> str:
    return field.name if column == field.name else f"{field.name} (column {column})"


def _quantity(value, where: str) -> Decimal:
    if isinstance(value, bool):
        raise RowRejected("", f"{where}: {value!r} is not a quantity.")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RowRejected("", f"{where}: {value!r} is not a number.") from None
    if not number.is_finite():
        raise RowRejected("", f"{where}: {value!r} is not a number.")
    if number <= 0:
        raise RowRejected("", f"{where}: {value} must be above zero.")
    if number >= QUANTITY_LIMIT:
        raise RowRejected("", f"{where}: {value} is too large.")
    return number


def _date(value, where: str, zone: tzinfo) -> date:
    if isinstance(value, datetime):
        return value.astimezone(zone).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise RowRejected("", f"{where}: {raw!r} is not a date (YYYY-MM-DD).") from None
    return moment.astimezone(zone).date() if moment.tzinfo else moment.date()


def _priority(value, where: str) -> int:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise RowRejected("", f"{where}: {value!r} is not a whole number.")
    if not 1 <= number <= 9:
        raise RowRejected("", f"{where}: {value} is outside 1 to 9.")
    return int(number)


def row_values(target: str, columns: dict[str, str | None], row: dict, zone: tzinfo) -> dict:
    """The row's values for our fields, typed; a RowRejected names the first bad field."""
    values: dict = {}
    for field in FIELDS[target]:
        column = columns.get(field.name)
        raw = row.get(column) if column is not None else None
        where = _where(field, column or field.name)
        try:
            if _blank(raw):
                if field.required:
                    raise RowRejected("", f"{where} is empty.")
                continue
            if field.kind == "quantity":
                values[field.name] = _quantity(raw, where)
            elif field.kind == "date":
                values[field.name] = _date(raw, where, zone)
            elif field.kind == "priority":
                values[field.name] = _priority(raw, where)
            elif field.kind == "choice":
                text = str(raw).strip().lower()
                if text not in field.choices:
                    raise RowRejected(
                        "", f"{where}: {raw!r} is not one of {', '.join(field.choices)}."
                    )
                values[field.name] = text
            else:
                text = str(raw).strip()
                limit = TEXT_LIMITS.get(field.name, 64 if field.kind == "code" else 200)
                if len(text) > limit:
                    raise RowRejected("", f"{where}: longer than {limit} characters.")
                values[field.name] = text
        except RowRejected as exc:
            raise RowRejected(field.name, exc.reason) from None
    return values


# --- watermarks --------------------------------------------------------------------------------

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def watermark_encode(value) -> tuple[str, str]:
    """A watermark value read from the source → (type, text)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} cannot be a watermark: give a column that only grows.")
    if isinstance(value, int):
        return "int", str(value)
    if isinstance(value, Decimal):
        return "decimal", str(value)
    if isinstance(value, float):
        return "float", repr(value)
    if isinstance(value, datetime):
        return "datetime", value.isoformat()
    if isinstance(value, date):
        return "date", value.isoformat()
    if isinstance(value, str):
        return "text", value
    raise ValueError(f"{type(value).__name__} values cannot be a watermark.")


def watermark_decode(kind: str, text: str):
    """(type, text) → the value to bind in the query; raises ValueError when it does not read."""
    readers = {
        "int": int,
        "decimal": Decimal,
        "float": float,
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "text": str,
    }
    if kind not in readers:
        raise ValueError(f"Unknown watermark type {kind!r}.")
    try:
        return readers[kind](text)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{text!r} is not a {kind} watermark.") from None


def query_errors(query: str) -> list[str]:
    """A source query must be one SELECT (or WITH … SELECT): it is wrapped as a subquery."""
    body = (query or "").strip().rstrip(";").strip()
    if not body:
        return ["Give the SELECT that reads the rows."]
    if not re.match(r"(?is)^(select|with)\b", body):
        return ["The query must be a SELECT (or WITH … SELECT)."]
    if ";" in body:
        return ["Give one statement only (no ';' inside)."]
    return []


def query_body(query: str) -> str:
    return query.strip().rstrip(";").strip()
