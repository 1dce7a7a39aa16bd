"""Costing's codes as a person reads them, in the reader's language: variance kinds, cost
elements, the floor records a cost was posted from, report groupings and export headers.
The engines keep their English codes (pure, compared and stored); pages and exports show
these."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.texts import text_shown
from planning.words import code_label

from .engines import variance as engine

KIND_LABELS = {
    engine.MATERIAL_PRICE: _("material price"),
    engine.MATERIAL_USAGE: _("material usage"),
    engine.LABOUR_RATE: _("labour rate"),
    engine.LABOUR_EFFICIENCY: _("labour efficiency"),
    engine.MACHINE_RATE: _("machine rate"),
    engine.MACHINE_EFFICIENCY: _("machine efficiency"),
    engine.OVERHEAD_SPEND: _("overhead"),
    engine.SCRAP_LOSS: _("scrap"),
    engine.LATE: _("late postings"),
}
ELEMENT_LABELS = {
    "material": pgettext_lazy("cost element", "Material"),
    "labour": _("Labour"),
    "machine": _("Machine"),
    "overhead": _("Overhead"),
    "scrap": _("Scrap"),
}
SOURCE_LABELS = {
    "material issue": _("material issue"),
    "labour booking": _("labour booking"),
    "production event": _("production event"),
}
GROUPING_LABELS = {
    "product": _("product"),
    "work_center": _("work center"),
    "period": _("period"),
    "order": _("order"),
}
# Export columns (CSV and XLSX). English keeps the column keys integrators and the import
# read (good_quantity, standard_unit …); another language gets these headings.
HEADER_LABELS = {
    "item": _("Item"),
    "version": _("Cost version"),
    "effective_from": _("Effective from"),
    "current": _("Current"),
    "complete": _("Complete cost"),
    "material": pgettext_lazy("cost element", "Material"),
    "labour": _("Labour"),
    "machine": _("Machine"),
    "overhead": _("Overhead"),
    "total": _("Total"),
    "change": _("Change"),
    "change_pct": _("Change %"),
    "order": _("Order"),
    "product": _("Product"),
    "status": _("Status"),
    "good_quantity": _("Good quantity"),
    "scrap_quantity": _("Scrap quantity"),
    "scrap_memo": _("Scrap (memo)"),
    "standard_total": _("Standard total"),
    "actual_total": _("Actual total"),
    "difference": _("Difference"),
    "standard_unit_cost": _("Standard unit cost"),
    "unit_cost": _("Actual unit cost"),
    "row": _("Row"),
    "element": _("Element"),
    "standard_unit": _("Standard per unit"),
    "standard": _("Standard"),
    "actual": _("Actual"),
    "posted_at": _("Posted"),
    "period": _("Period"),
    "late": _("Late"),
    "step_no": _("Operation"),
    "operation": _("Operation name"),
    "work_center": _("Work center"),
    "equipment": _("Machine"),
    "operator": _("Operator"),
    "lot": _("Lot"),
    "quantity": _("Quantity"),
    "rate": _("Rate"),
    "amount": _("Amount"),
    "source": _("Source"),
    "source_record": _("Source record"),
    "basis": _("Basis"),
    "level": _("Level"),
    "path": _("Path"),
    "name": _("Name"),
    "lot_size": _("Lot size"),
    "orders": _("Orders"),
    "actual_unit": _("Actual unit cost"),
    "unit_difference": _("Unit difference"),
    "kind": _("Kind"),
    "component": _("Component"),
    "standard_quantity": _("Standard quantity"),
    "actual_quantity": _("Actual quantity"),
    "standard_rate": _("Standard rate"),
    "actual_rate": _("Actual rate"),
    "standard_amount": _("Standard amount"),
    "actual_amount": _("Actual amount"),
    "pct": _("%"),
    "flagged": _("Flagged"),
    "cause": _("Likely cause"),
    "operators": _("Operators"),
    "lots": _("Lots"),
    "actual_unit_cost": _("Actual unit cost"),
    "bom_line_no": _("BOM line"),
    "difference_per_unit": _("Difference per unit"),
    "frozen": _("Frozen"),
    "late_total": _("Late postings"),
    "line_no": pgettext_lazy("row number", "Line"),
    "machines": _("Machines"),
    "problems": _("Problems"),
    "skill": _("Skill"),
    "variance": _("Variance"),
}


# `code`'s label in `table`; an unknown code as it is (planning's, the same rule).
label = code_label


def export_header(codes) -> list[str]:
    """An export's header row: the column keys in English, their headings otherwise."""
    language = translation.get_language() or "en"
    if language.startswith("en"):
        return list(codes)
    return [label(HEADER_LABELS, code) for code in codes]


def variance_cause(v) -> str:
    """A flagged variance's likely cause in the reader's language (core/texts.py)."""
    return text_shown(v.cause_id, v.cause_params, v.cause)
