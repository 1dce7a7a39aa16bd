"""django-import-export resources for BOMs and routings: one row per BOM line / routing step.

Each row names its header (the BOM or routing) by the parent item's code and the version;
the header is found, or created, from the first row that names it. Header cells may be
repeated on every row or given once: a blank cell leaves the header as it is, a value that
differs from an earlier row of the same header is an error. Lines match on (BOM, line_no),
steps on (routing, step_no); items, work centers, equipment and skills match on their codes.
"""

from collections import defaultdict, deque

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop
from import_export import fields, widgets

from core.formatting import quantity_format
from resources.models import Equipment, Item, Skill, WorkCenter
from resources.resources import (
    CellError,
    CodeForeignKeyWidget,
    CodeManyToManyWidget,
    CodeWidget,
    DayWidget,
    MasterDataResource,
    QuantityWidget,
    WholeNumberWidget,
    cell_text,
    invalid,
    model_field,
)

from .models import Bom, BomLine, Routing, RoutingStep
from .services import bom_cycle_check, bom_low_level_codes_update


def _shown(value) -> str:
    if hasattr(value, "is_finite"):
        return quantity_format(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _header_field(column: str, attribute: str, widget, **kwargs) -> fields.Field:
    # Read-only for import-export: the header is set by import_related(), not cell by cell;
    # the attribute path still serves export and the admin's preview of changes.
    return fields.Field(
        attribute=attribute, column_name=column, widget=widget, readonly=True, **kwargs
    )


class HeaderLineResource(MasterDataResource):
    """A resource for the lines of a header record (BOM lines of a BOM, steps of a routing)."""

    header_model: type[Bom] | type[Routing]
    header_fk = ""  # the line's foreign key to its header
    # Messages naming the header (stored texts: resources.resources, "messages").
    header_invalid = ""  # %(code)s %(version)s %(row)s
    header_differs = ""  # %(value)s %(seen)s %(row)s
    line_duplicate = ""  # %(number)s %(code)s %(version)s %(row)s
    parent_column = ""  # the column with the header item's code
    number_column = ""  # the line's number within its header
    header_columns: tuple[str, ...] = ()  # further columns that set fields of the header

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        # (item pk, version) → (header or None if it failed validation, first row, {column:
        # (row, value)} of header cells given so far)
        self.headers: dict[tuple, tuple] = {}
        self.saved_rows: list[tuple[int, object]] = []
        self.stored_lines: dict[tuple, dict] = {}  # (item code, version) → {number: line}

    def get_instance(self, instance_loader, row):
        """The existing line of the same header and number, with its header (for the diff).

        The lines of a header are read once, on its first row, and each is handed out once:
        a second row with the same number is refused by check_duplicate() anyway. So a line
        not found here does not exist, and the unique constraint over (header, number) needs
        no query per row (see MasterDataResource.looked_up_relations).
        """
        code = cell_text(row.get(self.parent_column))
        version = self.column_value("version", row, {})
        number = self.column_value(self.number_column, row, {})
        if not code or not version or number is None:
            return None
        lines = self.stored_lines.get((code, version))
        if lines is None:
            lookup = {f"{self.header_fk}__item__code": code, f"{self.header_fk}__version": version}
            model = self._meta.model
            lines = {
                getattr(line, self.number_column): line
                for line in model.objects.select_related(f"{self.header_fk}__item").filter(**lookup)
            }
            self.stored_lines[(code, version)] = lines
        line = lines.pop(number, None)
        if line is not None:
            # An earlier row may have changed the header since its lines were read: give the
            # line the header as it is now, as reading the line now would.
            header = getattr(line, self.header_fk)
            resolved = self.headers.get((header.item_id, header.version), (None,))[0]
            if resolved is not None:
                setattr(line, self.header_fk, resolved)
        return line

    def import_related(self, instance, row, errors, **kwargs):
        item = self.column_value(self.parent_column, row, errors)
        version = self.column_value("version", row, errors)
        if item is None:
            if self.parent_column not in errors:
                errors[self.parent_column] = [invalid(gettext_noop("The item code is required."))]
            return
        given = {}
        for column in self.header_columns:
            if column in row:
                value = self.column_value(column, row, errors)
                if value is not None:
                    given[column] = value
        header = self.header_resolve(item, version, given, errors, kwargs["row_number"] + 1)
        if header is not None:
            setattr(instance, self.header_fk, header)

    def header_resolve(self, item, version, given: dict, errors: dict, row_number: int):
        """Find or create the header, apply this row's header cells, validate and save it."""
        key = (item.pk, version)
        if key in self.headers:
            header, first_row, seen = self.headers[key]
            if header is None:
                errors.setdefault(self.parent_column, []).append(
                    invalid(self.header_invalid, code=item.code, version=version, row=first_row)
                )
                return None
            created = False
        else:
            header = self.header_model.objects.filter(item=item, version=version).first()
            created = header is None
            if created:
                header = self.header_model(item=item, version=version)
            first_row, seen = row_number, {}
        changes = {}
        for column, value in given.items():
            if column in seen:
                seen_row, seen_value = seen[column]
                if seen_value != value:
                    errors.setdefault(column, []).append(
                        invalid(
                            self.header_differs,
                            value=_shown(value),
                            seen=_shown(seen_value),
                            row=seen_row,
                        )
                    )
            elif getattr(header, column) != value:
                changes[column] = value
        if created or changes:
            before = {column: getattr(header, column) for column in changes}
            for column, value in changes.items():
                setattr(header, column, value)
            try:
                header.full_clean()
            except ValidationError as e:
                for name, found in e.error_dict.items():
                    column = self.parent_column if name == "item" else name
                    errors.setdefault(column, []).extend(found)
                if created:
                    self.headers[key] = (None, first_row, seen)
                    return None
                for column, value in before.items():
                    setattr(header, column, value)
                return header
            header.save()
        for column, value in given.items():
            seen.setdefault(column, (row_number, value))
        self.headers[key] = (header, first_row, seen)
        return header

    def unvalidated_fields(self, instance) -> set[str]:
        if getattr(instance, f"{self.header_fk}_id") is None:
            return {self.header_fk}
        return set()

    def after_save_instance(self, instance, row, **kwargs):
        self.saved_rows.append((kwargs["row_number"], instance))

    def duplicate_message(self, row: dict, first_row: int) -> ValidationError:
        return invalid(
            self.line_duplicate,
            number=cell_text(row.get(self.number_column)),
            code=cell_text(row.get(self.parent_column)),
            version=self.column_value("version", row, {}),
            row=first_row,
        )


class BomResource(HeaderLineResource):
    """BOM lines, one per row; the BOM (parent + version) is created or updated from the row.

    After the rows, the product structure is checked for cycles and the low-level codes are
    recomputed, in the import's transaction; a cycle marks the rows that close it as invalid,
    so the whole import rolls back and the rows are named (admin and service alike).
    """

    parent = _header_field("parent", "bom__item", CodeForeignKeyWidget(Item))
    version = _header_field("version", "bom__version", CodeWidget(), default="1")
    base_quantity = _header_field(
        "base_quantity", "bom__base_quantity", QuantityWidget(minimum=0, exclusive=True)
    )
    effective_from = _header_field("effective_from", "bom__effective_from", DayWidget())
    effective_to = _header_field("effective_to", "bom__effective_to", DayWidget())
    line_no = model_field(BomLine, "line_no", WholeNumberWidget(minimum=0))
    component = model_field(BomLine, "component", CodeForeignKeyWidget(Item))
    quantity = model_field(BomLine, "quantity", QuantityWidget(minimum=0, exclusive=True))
    scrap_pct = model_field(BomLine, "scrap_pct", QuantityWidget(minimum=0, below=100))
    operation_step_no = model_field(BomLine, "operation_step_no", WholeNumberWidget(minimum=0))

    header_model = Bom
    header_fk = "bom"
    header_invalid = gettext_noop("The BOM %(code)s v%(version)s is invalid (see row %(row)s).")
    header_differs = gettext_noop(
        "%(value)s differs from %(seen)s in row %(row)s for the same BOM."
    )
    line_duplicate = gettext_noop(
        "Line %(number)s of %(code)s v%(version)s is already in row %(row)s of this file."
    )
    parent_column = "parent"
    number_column = "line_no"
    header_columns = ("base_quantity", "effective_from", "effective_to")
    required_columns = ("parent", "line_no", "component", "quantity")
    row_key_columns = ("parent", "version", "line_no")
    error_columns = {"bom": "parent"}

    class Meta:
        model = BomLine
        name = "BOM lines"
        fields = (
            "parent",
            "version",
            "base_quantity",
            "effective_from",
            "effective_to",
            "line_no",
            "component",
            "quantity",
            "scrap_pct",
            "operation_step_no",
        )
        import_order = fields
        export_order = fields
        # Matching is done by get_instance(); these are the key columns that must be present.
        import_id_fields = ("parent", "line_no")

    def filter_export(self, queryset, **kwargs):
        if queryset.model is Bom:  # the admin exports from the BOM list
            queryset = BomLine.objects.filter(bom__in=queryset)
        return queryset.select_related("bom__item", "component")

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        try:
            bom_cycle_check()
        except ValidationError:
            closing = self.cycle_closing_rows()
            if not closing:  # cannot happen unless the stored structure already had a cycle
                raise
            codes = dict(
                Item.objects.filter(pk__in={pk for _, c in closing for pk in c}).values_list(
                    "pk", "code"
                )
            )
            for number, cycle in closing:
                error = invalid(
                    gettext_noop("BOM cycle: %(path)s."),
                    path=" → ".join(codes[pk] for pk in cycle),
                )
                self.row_invalidate(result, number, ValidationError({"component": [error]}))
            return
        if not result.has_errors() and not result.has_validation_errors():
            bom_low_level_codes_update()

    def cycle_closing_rows(self) -> list[tuple[int, list]]:
        """The rows that close a cycle, each with its cycle [parent, component, …, parent].

        Replays this file's lines in file order on top of the other stored lines: a line
        closes a cycle when its parent can already be reached from its component. It is
        reported and left out, so a second, separate cycle is found (and named) as well.
        """
        saved = {line.pk for _, line in self.saved_rows}
        children: dict = defaultdict(set)
        for pk, parent, component in BomLine.objects.values_list(
            "pk", "bom__item_id", "component_id"
        ):
            if pk not in saved:
                children[parent].add(component)
        closing = []
        for number, line in self.saved_rows:
            parent, component = line.bom.item_id, line.component_id
            path = _path(children, component, parent)
            if path:
                closing.append((number, [parent, *path]))
            else:
                children[parent].add(component)
        return closing


def _path(children: dict, start, goal) -> list | None:
    """A shortest path start → … → goal along parent → component edges, or None."""
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = previous[node]
            return path[::-1]
        for child in children.get(node, ()):
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return None


class YesNoWidget(widgets.BooleanWidget):
    """A yes/no column: yes, no, true, false, 1, 0 (any case); blank gives the default.

    Anything else is refused rather than read as "no" (import-export's own widget would)."""

    YES = {"yes", "y", "true", "1", "x"}
    NO = {"no", "n", "false", "0"}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = cell_text(value).lower()
        if not text:
            return None
        if text in self.YES:
            return True
        if text in self.NO:
            return False
        raise CellError(gettext_noop("“%(value)s” is not yes or no."), value=cell_text(value))


class RoutingResource(HeaderLineResource):
    """Routing steps, one per row; the routing (item + version) is created from the row.

    `eligible_equipment` lists equipment codes separated by "|" (CNC-01|CNC-02).
    """

    item = _header_field("item", "routing__item", CodeForeignKeyWidget(Item))
    version = _header_field("version", "routing__version", CodeWidget(), default="1")
    step_no = model_field(RoutingStep, "step_no", WholeNumberWidget(minimum=0))
    name = model_field(RoutingStep, "name", widgets.CharWidget())
    work_center = model_field(RoutingStep, "work_center", CodeForeignKeyWidget(WorkCenter))
    eligible_equipment = model_field(
        RoutingStep, "eligible_equipment", CodeManyToManyWidget(Equipment, separator="|")
    )
    setup_minutes = model_field(RoutingStep, "setup_minutes", QuantityWidget(minimum=0))
    run_minutes_per_unit = model_field(
        RoutingStep, "run_minutes_per_unit", QuantityWidget(minimum=0)
    )
    required_skill = model_field(RoutingStep, "required_skill", CodeForeignKeyWidget(Skill))
    min_skill_level = model_field(RoutingStep, "min_skill_level", WholeNumberWidget())
    inspection_plan_ref = model_field(RoutingStep, "inspection_plan_ref", widgets.CharWidget())
    counted_by_machine = model_field(RoutingStep, "counted_by_machine", YesNoWidget())
    setup_family = model_field(RoutingStep, "setup_family", widgets.CharWidget())

    header_model = Routing
    header_fk = "routing"
    header_invalid = gettext_noop("The routing %(code)s v%(version)s is invalid (see row %(row)s).")
    header_differs = gettext_noop(
        "%(value)s differs from %(seen)s in row %(row)s for the same routing."
    )
    line_duplicate = gettext_noop(
        "Step %(number)s of %(code)s v%(version)s is already in row %(row)s of this file."
    )
    parent_column = "item"
    number_column = "step_no"
    required_columns = ("item", "step_no", "name", "work_center")
    row_key_columns = ("item", "version", "step_no")
    error_columns = {"routing": "item"}

    class Meta:
        model = RoutingStep
        name = "Routing steps"
        fields = (
            "item",
            "version",
            "step_no",
            "name",
            "work_center",
            "eligible_equipment",
            "setup_minutes",
            "run_minutes_per_unit",
            "required_skill",
            "min_skill_level",
            "inspection_plan_ref",
            "counted_by_machine",
            "setup_family",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ("item", "step_no")

    def filter_export(self, queryset, **kwargs):
        if queryset.model is Routing:  # the admin exports from the routing list
            queryset = RoutingStep.objects.filter(routing__in=queryset)
        return queryset.select_related(
            "routing__item", "work_center", "required_skill"
        ).prefetch_related("eligible_equipment")
