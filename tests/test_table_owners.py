"""Each table is written by its owner: only the `services/` package of the app that defines a
model writes it (ARCHITECTURE.md, "Inside an app"). A downstream app that must move an
upstream row calls the upstream service, which holds the rules and the lock order.

The test reads every domain module's source (it imports none of them) and finds the writes
it can tell by reading:

- through a model's manager: `<Model>.objects.create(...)`, `.bulk_create`, `.bulk_update`,
  `.get_or_create`, `.update_or_create`, and `.update(...)` (F() updates included) or
  `.delete()` at the end of a queryset chain that starts at `<Model>.objects`;
- through an instance: `.save()` or `.delete()` on `<Model>(...)`, on what a queryset's
  `get()`/`first()`/… returned, on a loop variable over a queryset, or on a parameter
  annotated with the model;
- through relations, followed with the model registry: `order.operations.update(...)`
  writes operations, `task.operation.save()` an operation, and `.add/.remove/.set/.clear`
  on a many-to-many manager the table of the model that declares the field.

Local variables holding querysets and instances are followed within their function. A name
is a model of app X when the module imports it from `X.models` (or defines it in X's
models). What the reading cannot see (a model reached through `self.model`, a queryset
passed around untyped) is not looked for: the test catches the common cases, reviews the
rest.
"""

import ast
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "core",
    "resources",
    "planning",
    "execution",
    "quality",
    "costing",
    "devices",
    "integration",
)

MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
QUERYSET_WRITES = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
        "update",
        "delete",
    }
)
INSTANCE_WRITES = frozenset({"save", "delete"})
M2M_WRITES = frozenset({"add", "remove", "set", "clear", "create"})
# What a queryset's methods give back: another queryset, or one instance.
TO_QUERYSET = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "select_related",
        "prefetch_related",
        "order_by",
        "select_for_update",
        "only",
        "defer",
        "annotate",
        "alias",
        "distinct",
        "using",
        "none",
        "reverse",
    }
)
TO_INSTANCE = frozenset({"get", "first", "last", "earliest", "latest"})

# Modules, besides an owner's services/, that may write, with the reason. A path names a
# module relative to the repository; one ending in "/" a whole package. Each entry must
# still allow a write (a stale one fails the test: take it out).
ALLOWED: dict[str, str] = {
    # core has no services/ package: its few primitives are its write services.
    "core/events.py": "the domain-event outbox: emit() appends rows, delivery marks them",
    "core/audit.py": "the audit trail appends its entries",
    "core/history.py": "field-level history appends an audit entry per snapshot, in bulk too",
    "core/numbering.py": "document numbers: the counter row behind each series",
    "core/notifications.py": "notifications: people_notify, mark read",
    "core/tokens.py": "service accounts and their API tokens: issue, revoke, last use",
    "core/signatures.py": "electronic signatures on decisions: signature_sign appends them",
    "core/preferences.py": "a person's own preferences: the pages' language",
    # The demo loaders build a whole plant, outside any one use case. (Admin sites,
    # management commands and import-export resources need no entry: they write through
    # Django's machinery or call services. Migrations are not scanned.)
    "resources/demo.py": "the demo loader builds master data",
    "planning/demo.py": "the demo loader builds orders, routings and stock",
    "quality/demo.py": "the demo loader builds defect codes and rules",
    "costing/demo.py": "the demo loader builds the standard cost version and its rates",
}
# Writes that a change in progress moves into the owner's services, by (module, model).
# Each must still be found: once the write is gone, take its entry out.
PENDING: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Write:
    module: str  # path relative to the repository
    line: int
    model: str
    owner: str  # the app whose table is written
    call: str  # the method called

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.call}() writes {self.owner}'s {self.model}"


@dataclass(frozen=True)
class Ref:
    """What an expression is: a model class, a queryset of it, an instance of it, or a
    many-to-many manager (whose writes go to `owner`'s table)."""

    kind: str  # class | queryset | instance | m2m
    model: str
    owner: str


# (owner app, model name, attribute) → what the attribute of an instance is, or None.
Relations = Callable[[str, str, str], Ref | None]


def no_relations(owner: str, model: str, attr: str) -> Ref | None:
    return None


def registry_relations(owner: str, model: str, attr: str) -> Ref | None:
    """Follow a relation with Django's model registry."""
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist

    try:
        meta = apps.get_model(owner, model)._meta
    except LookupError:
        return None
    field = None
    for f in meta.get_fields():
        accessor = f.get_accessor_name() if f.auto_created and not f.concrete else f.name
        if accessor == attr:
            field = f
            break
    if field is None or not field.is_relation or field.related_model is None:
        return None
    target = field.related_model._meta
    if field.many_to_many:
        declaring = field.model if field.concrete else field.related_model
        return Ref("m2m", target.object_name, declaring._meta.app_label)
    if field.one_to_many:
        return Ref("queryset", target.object_name, target.app_label)
    try:
        meta.get_field(attr)
    except FieldDoesNotExist:
        return None
    return Ref("instance", target.object_name, target.app_label)


def _models_module(module: str | None, level: int, here: str) -> str | None:
    """The app whose models an import names, or None: `planning.models`, `planning.models.x`,
    or relative (`..models`, `.models`) from a module of app `here`."""
    if module is None:
        return None
    parts = module.split(".")
    if level:
        return here if parts[0] == "models" else None
    if len(parts) >= 2 and parts[0] in APPS and parts[1] == "models":
        return parts[0]
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, app: str, module: str, relations: Relations):
        self.app, self.module, self.relations = app, module, relations
        self.models: dict[str, tuple[str, str]] = {}  # local name → (owning app, model)
        self.model_modules: dict[str, str] = {}  # name of an imported models module → app
        self.scopes: list[dict[str, Ref | None]] = [{}]
        self.writes: list[Write] = []

    # -- what names mean ---------------------------------------------------------------
    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        owner = _models_module(node.module, node.level, self.app)
        for alias in node.names:
            name = alias.asname or alias.name
            if owner is not None:
                self.models[name] = (owner, alias.name)
            elif alias.name == "models" and (node.level or node.module in APPS):
                self.model_modules[name] = self.app if node.level else node.module

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            owner = _models_module(alias.name, 0, self.app)
            if owner is not None and alias.asname:
                self.model_modules[alias.asname] = owner

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self.module.startswith(f"{self.app}/models"):
            self.models[node.name] = (self.app, node.name)
        self.generic_visit(node)

    def _lookup(self, name: str) -> Ref | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.models:
            owner, model = self.models[name]
            return Ref("class", model, owner)
        return None

    def ref(self, node: ast.AST | None) -> Ref | None:
        """What an expression is, as far as reading tells."""
        if isinstance(node, ast.Name):
            return self._lookup(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in self.model_modules:
                return Ref("class", node.attr, self.model_modules[node.value.id])
            base = self.ref(node.value)
            if base is None:
                return None
            if base.kind == "class" and node.attr in MANAGERS:
                return Ref("queryset", base.model, base.owner)
            if base.kind == "instance":
                return self.relations(base.owner, base.model, node.attr)
            return None
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                base = self.ref(node.func.value)
                if base is not None and base.kind == "queryset":
                    if node.func.attr in TO_QUERYSET:
                        return base
                    if node.func.attr in TO_INSTANCE:
                        return Ref("instance", base.model, base.owner)
                return None
            base = self.ref(node.func)
            if base is not None and base.kind == "class":
                return Ref("instance", base.model, base.owner)
            return None
        if isinstance(node, ast.Subscript):
            base = self.ref(node.value)
            if base is not None and base.kind == "queryset":
                if isinstance(node.slice, ast.Slice):
                    return base
                return Ref("instance", base.model, base.owner)
            return None
        return None

    def _annotation(self, node: ast.AST | None) -> Ref | None:
        """A parameter annotated `Model` or `Model | None` is an instance of it."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._annotation(node.left) or self._annotation(node.right)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            return self._annotation(node)
        base = self.ref(node) if isinstance(node, ast.Name | ast.Attribute) else None
        return Ref("instance", base.model, base.owner) if base and base.kind == "class" else None

    # -- scopes and bindings -----------------------------------------------------------
    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for decorator in getattr(node, "decorator_list", []):
            self.visit(decorator)
        args = node.args
        scope: dict[str, Ref | None] = {}
        for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if arg is not None:
                scope[arg.arg] = self._annotation(arg.annotation)
        self.scopes.append(scope)
        body = node.body if isinstance(node.body, list) else [node.body]
        for statement in body:
            self.visit(statement)
        self.scopes.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function
    visit_Lambda = _visit_function

    def _bind(self, target: ast.AST, value: Ref | None) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._bind(element, None)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        value = self.ref(node.value)
        for target in node.targets:
            self._bind(target, value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        value = self.ref(node.value) if node.value is not None else None
        self._bind(node.target, value or self._annotation(node.annotation))

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        over = self.ref(node.iter)
        item = Ref("instance", over.model, over.owner) if over and over.kind == "queryset" else None
        self._bind(node.target, item)
        for statement in node.body + node.orelse:
            self.visit(statement)

    # -- writes ------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.ref(func.value)
            if base is not None and (
                (base.kind == "queryset" and func.attr in QUERYSET_WRITES)
                or (base.kind == "instance" and func.attr in INSTANCE_WRITES)
                or (base.kind == "m2m" and func.attr in M2M_WRITES)
            ):
                self.writes.append(
                    Write(self.module, node.lineno, base.model, base.owner, func.attr)
                )
        self.generic_visit(node)


def writes_in(
    source: str, *, app: str, module: str, relations: Relations = no_relations
) -> list[Write]:
    """Every write `source` (a module of `app`) makes that reading can tell."""
    scanner = _Scanner(app, module, relations)
    scanner.visit(ast.parse(source))
    return scanner.writes


def domain_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in rel:
                yield app, rel, path


def _place_allowed(module: str) -> str | None:
    """The ALLOWED entry that lets `module` write, if any."""
    for key in ALLOWED:
        if module == key or (key.endswith("/") and module.startswith(key)):
            return key
    return None


def allowed(write: Write) -> bool:
    module = write.module
    return (
        module.startswith(f"{write.owner}/services/")
        or _place_allowed(module) is not None
        or (module, write.model) in PENDING
    )


def all_writes(relations: Relations) -> list[Write]:
    return [
        write
        for app, rel, path in domain_modules()
        for write in writes_in(path.read_text(), app=app, module=rel, relations=relations)
    ]


# --- the rule ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def writes() -> list[Write]:
    return all_writes(registry_relations)


def test_only_the_owner_s_services_write_its_tables(writes):
    found = [w for w in writes if not allowed(w)]
    assert not found, "written outside the owner's services/:\n" + "\n".join(map(str, found))


def test_every_exception_to_the_rule_is_still_needed(writes):
    used = {_place_allowed(w.module) for w in writes} | {(w.module, w.model) for w in writes}
    stale = [key for key in [*ALLOWED, *PENDING] if key not in used]
    assert not stale, f"these no longer write anything: take them out of the lists: {stale}"


def test_the_scan_sees_the_writes_it_is_meant_to_see(writes):
    """The scan of the real code finds writes of each kind in the owners' services (a scan
    that found nothing would pass the rule for nothing)."""
    seen = {(w.module, w.model, w.call) for w in writes}
    for expected in [
        ("execution/services/events.py", "EventApproval", "create"),  # a manager's
        ("planning/services/operations.py", "OrderOperation", "update"),  # a queryset's
        ("quality/services/scrap.py", "Disposition", "save"),  # an instance's
        ("planning/services/orders.py", "OrderOperation", "update"),  # a relation's
        ("planning/services/operations.py", "Equipment", "add"),  # a many-to-many manager's
    ]:
        assert expected in seen, expected


# --- the scanner itself, on small sources ------------------------------------------------


def _scan(source: str, module: str = "execution/services/x.py", relations=no_relations):
    return [
        (w.model, w.owner, w.call)
        for w in writes_in(source, app=module.split("/")[0], module=module, relations=relations)
    ]


def test_scanner_finds_manager_chains_and_resolves_imports():
    source = """
from django.db.models import F
from planning.models import OrderOperation as Op, ProductionOrder
from ..models import Task
from resources import models as rm

def f(order_id):
    Op.objects.filter(pk=1).update(quantity_done=F("quantity_done") + 1)
    ProductionOrder.objects.select_for_update().filter(pk=order_id).delete()
    Task.objects.create(order_id=order_id)
    rm.Equipment.objects.filter(code="M").update(status="fault")
    ProductionOrder.objects.filter(pk=order_id).count()  # a read
    ProductionOrder.objects.values_list("pk", flat=True)  # a read
    other.objects.update(x=1)  # not a model this module knows
"""
    assert _scan(source) == [
        ("OrderOperation", "planning", "update"),
        ("ProductionOrder", "planning", "delete"),
        ("Task", "execution", "create"),
        ("Equipment", "resources", "update"),
    ]


def test_scanner_follows_variables_instances_and_annotations():
    source = """
from planning.models import ProductionOrder, SalesOrder

def f(so: SalesOrder, maybe: "ProductionOrder | None", plain):
    qs = ProductionOrder.objects.filter(status="released")
    qs.update(priority=1)
    order = qs.first()
    order.save()
    for each in ProductionOrder.objects.all():
        each.delete()
    so.save(update_fields=["delay_note"])
    maybe.save()
    plain.save()  # not known
    ProductionOrder(number="x").save()
    totals = ProductionOrder.objects.aggregate(n=Count("pk"))
    totals.update({"n": 0})  # a dict
    qs = []
    qs.update()  # rebound: not a queryset any more

def g(qs):
    qs.update(x=1)  # a parameter shadows the other function's variable
"""
    assert _scan(source) == [
        ("ProductionOrder", "planning", "update"),
        ("ProductionOrder", "planning", "save"),
        ("ProductionOrder", "planning", "delete"),
        ("SalesOrder", "planning", "save"),
        ("ProductionOrder", "planning", "save"),
        ("ProductionOrder", "planning", "save"),
    ]


def test_scanner_follows_relations_with_the_registry():
    def relations(owner, model, attr):
        return {
            ("execution", "Task", "operation"): Ref("instance", "OrderOperation", "planning"),
            ("planning", "ProductionOrder", "operations"): Ref(
                "queryset", "OrderOperation", "planning"
            ),
            ("planning", "OrderOperation", "eligible_equipment"): Ref(
                "m2m", "Equipment", "planning"
            ),
        }.get((owner, model, attr))

    source = """
from execution.models import Task

def f(task: Task):
    task.operation.save()
    task.operation.order.save()  # not in this small registry
    task.order  # a read
    task.operation.eligible_equipment.add(1)
"""
    assert _scan(source, relations=relations) == [
        ("OrderOperation", "planning", "save"),
        ("Equipment", "planning", "add"),
    ]
    real = _scan(
        "from planning.models import ProductionOrder\n"
        "def f(order: ProductionOrder):\n"
        "    order.operations.exclude(status='done').update(status='cancelled')\n",
        relations=registry_relations,
    )
    assert real == [("OrderOperation", "planning", "update")]


def test_the_rule_refuses_a_write_outside_the_owner_s_services():
    outside = writes_in(
        "from planning.models import OrderOperation\n"
        "OrderOperation.objects.filter(pk=1).update(quantity_done=0)\n",
        app="execution",
        module="execution/services/events.py",
    )
    at_home = writes_in(
        "from ..models import OrderOperation\n"
        "OrderOperation.objects.filter(pk=1).update(quantity_done=0)\n",
        app="planning",
        module="planning/services/quantities.py",
    )
    own_view = writes_in(
        "from ..models import Task\nTask.objects.filter(pk=1).update(status='done')\n",
        app="execution",
        module="execution/views/terminal.py",
    )
    assert [allowed(w) for w in outside + at_home + own_view] == [False, True, False]
