"""Planning's codes as a person reads them: MRP's kinds of message, peg and supply, demand
ids ("SO:SO-2026-0001" → "SO-2026-0001"), import kinds, and an MRP action message in the
reader's language. The engines keep their codes (they are pure and stored); pages and
exports show these labels (`{% load units %}` filters)."""

from datetime import date

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MESSAGE_KINDS = {
    "past_due": gettext_lazy("Past due"),
    "expedite": gettext_lazy("Expedite"),
    "shortage": gettext_lazy("Shortage"),
    "defer": gettext_lazy("Defer"),
    "cancel": gettext_lazy("Cancel"),
}
PEG_KINDS = {
    "demand": gettext_lazy("Demand"),
    "planned_order": gettext_lazy("Parent planned order"),
    "safety_stock": gettext_lazy("Safety stock"),
    "lot_size_excess": gettext_lazy("Lot size excess"),
    "allocation": gettext_lazy("Allocated stock"),
}
SUPPLY_KINDS = {
    "on_hand": gettext_lazy("On hand"),
    "scheduled_receipt": gettext_lazy("Scheduled receipt"),
    "planned_order": gettext_lazy("Planned order"),
}
# The scheduler's status (planning/engines/scheduling): what the solver proved.
SOLVER_STATUSES = {
    "OPTIMAL": gettext_lazy("optimal"),
    "FEASIBLE": gettext_lazy("feasible"),
    "HEURISTIC": gettext_lazy("heuristic"),
    "INFEASIBLE": gettext_lazy("infeasible"),
    "EMPTY": gettext_lazy("nothing to schedule"),
}
IMPORT_KINDS = {
    "items": gettext_lazy("Items"),
    "equipment": gettext_lazy("Equipment"),
    "changeovers": gettext_lazy("Changeovers"),
    "boms": gettext_lazy("BOMs"),
    "routings": gettext_lazy("Routings"),
}


def code_label(table: dict, code: str | None) -> str:
    """The label of `code` in `table`; an unknown code as it is (never a blank cell)."""
    if not code:
        return ""
    return str(table.get(code, code))


def _day(value) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def demand_label(ref: str | None) -> str:
    """An MRP demand or supply id as a person reads it: the sales, production or purchase
    order's number, "MPS EB-500, week of 2026-12-07", "Forecast EB-500, week of 2026-12-07";
    anything else (a planned order's id) as it is."""
    if not ref:
        return ""
    kind, _sep, rest = ref.partition(":")
    # Sales, production and purchase orders by their own numbers (a purchase order's line
    # after a slash: PO-2026-0003/1).
    if kind in ("SO", "MO", "PO") and rest:
        return rest
    if kind in ("MPS", "FC") and rest:
        item, _sep, week = rest.rpartition(":")
        values = {"item": item, "week": _day(week)}
        if kind == "MPS":
            return _("MPS %(item)s, week of %(week)s") % values
        return _("Forecast %(item)s, week of %(week)s") % values
    return ref


def action_message_text(message) -> str:
    """An MRP action message in the reader's language. The engine writes English with every
    figure (kept as it is for English readers); in another language the sentence is built
    from the message's kind, item, reference and dates."""
    language = translation.get_language() or "en"
    if language.startswith("en"):
        return message.text
    values = {
        "item": message.item.code,
        "ref": demand_label(message.reference),
        "date": _day(message.date),
        "suggested": _day(message.suggested_date),
    }
    kind = message.kind
    if kind == "past_due":
        # A scheduled receipt due before the planning date (suggested: the planning date), or
        # a planned order that should have started before it (suggested: that start).
        if message.date and message.suggested_date and message.suggested_date > message.date:
            return (
                _(
                    "Scheduled receipt %(ref)s for %(item)s was due %(date)s, before the planning date."
                )
                % values
            )
        if message.suggested_date:
            return (
                _(
                    "Planned order %(ref)s for %(item)s should have started %(suggested)s: start it now."
                )
                % values
            )
        return _("Planned order %(ref)s for %(item)s cannot start in time: start it now.") % values
    if kind == "shortage":
        if message.reference:
            return (
                _("Demand %(ref)s for %(item)s was due %(date)s, before the planning date.")
                % values
            )
        return _("%(item)s: available stock below safety stock on %(date)s.") % values
    if kind == "expedite":
        return (
            _(
                "Scheduled receipt %(ref)s for %(item)s is due %(date)s but needed %(suggested)s: expedite it."
            )
            % values
        )
    if kind == "defer":
        return (
            _(
                "Scheduled receipt %(ref)s for %(item)s is due %(date)s but first needed %(suggested)s: defer it."
            )
            % values
        )
    if kind == "cancel":
        return (
            _("Scheduled receipt %(ref)s for %(item)s due %(date)s is not needed: cancel it.")
            % values
        )
    return message.text
