"""Migration operations of our own: one, for migrations that change labels only.

Django writes a change of a field's verbose name, help text or choices as an `AlterField`,
and `migrate` re-renders the migration state's models after each one (for a relation, with
every model related to it). The label migrations of 2026-12-07 held some 1,200 of them and
took 110 of the 127 s of a `migrate` on SQLite (35 s in all with this operation): every test
worker and every fresh install paid it, though none of them changes the database.
`LabelsAlter` applies the same operations to the migration state with the rendering held
back, then renders the models they touched once. Django has no operation for this
(`SeparateDatabaseAndState` still renders after each of its state operations: 143 s).
"""

from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.fields import AlterField
from django.db.migrations.operations.models import AlterModelOptions


def _kwargs_for_the_database(field, name: str) -> tuple:
    """What of a field the database sees: its deconstruction without the attributes that
    live in Python only (Field.non_db_attrs: labels, help text, choices, ...)."""
    _, path, args, kwargs = field.deconstruct()
    for attr in field.non_db_attrs:
        kwargs.pop(attr, None)
    return path, args, kwargs, field.db_column or name


class LabelsAlter(Operation):
    """The wrapped `AlterField` / `AlterModelOptions` operations, in the migration state
    alone: for changes that touch no column (labels, help texts, choices, model names)."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, operations):
        for operation in operations:
            if not isinstance(operation, AlterField | AlterModelOptions):
                raise TypeError(
                    f"LabelsAlter takes AlterField and AlterModelOptions, not {operation!r}"
                )
        self.operations = operations

    def state_forwards(self, app_label, state):
        # While the rendered registry is away, the state's reloads are skipped (Django's own
        # test: "apps" in state.__dict__); the models are rendered once afterwards.
        rendered = state.__dict__.pop("apps", None)
        try:
            for operation in self.operations:
                operation.state_forwards(app_label, state)
        finally:
            if rendered is not None:
                state.__dict__["apps"] = rendered
        touched = {
            (app_label, getattr(operation, "model_name_lower", operation.name_lower))
            for operation in self.operations
        }
        state.reload_models(list(touched), delay=False)

    def columns_check(self, app_label, from_state) -> None:
        """Refuse a wrapped AlterField that would change a column: it needs a real one."""
        for operation in self.operations:
            if not isinstance(operation, AlterField):
                continue
            model = from_state.models[app_label, operation.model_name_lower]
            before = _kwargs_for_the_database(model.fields[operation.name], operation.name)
            after = _kwargs_for_the_database(operation.field, operation.name)
            if before != after:
                raise ValueError(
                    f"{app_label}.{operation.model_name}.{operation.name}: the change reaches the "
                    "database column; write it as an AlterField of its own, not in LabelsAlter"
                )

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.columns_check(app_label, from_state)  # labels live in Python only

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self.columns_check(app_label, to_state)

    def describe(self):
        return f"Change the labels of {len(self.operations)} fields and models"
