"""The permission policy: who may do what, declared once.

`POLICY` maps each resource to its actions and the roles that may take them. A resource is
a model's label where one stands behind it (`resources.item`, `planning.bom`: the admin site
finds it by that name) or a named function of a page (`planning.mrp`, `execution.board`).
Everything that checks a permission reads this table:

- the API's default permission class (`PolicyPermission`) reads `policy_resource` on each
  view and refuses a view that declares none;
- pages and HTMX actions: `policy_required("resource.action")` (core/views_helpers.py);
- the admin site: `PolicyBackend` answers Django's model permissions (`resources.change_item`)
  from this table, and `admin_site_permission` opens the admin to whoever may see a model;
- the top bar (core/navigation.py) and every button: `{% load policy %}`, `user|can:"..."`;
- docs/permissions.md is generated from it (`manage.py policy_doc`).

Beyond the role, some actions depend on the object: an operator acts on their own tasks
only, a supervisor on the work centers they supervise. The app that owns the object
registers that rule with `scope_register` in its `AppConfig.ready()` (core imports no
domain app); `may(user, resource, action, obj)` asks it when an object is given.

Administrators (the admin role or a superuser) may everything.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils.translation import gettext, gettext_noop

from .lists import list_text
from .roles import Role, role_label, user_roles

OP = Role.OPERATOR
INSP = Role.INSPECTOR
SUP = Role.SUPERVISOR
PLAN = Role.PLANNER
COST = Role.COST_ACCOUNTANT
SCD = Role.SUPPLY_CHAIN_DIRECTOR
PM = Role.PLANT_MANAGER
QS = Role.QUALITY_SUPERVISOR
MAINT = Role.MAINTENANCE
INTEG = Role.INTEGRATION

# Who reads what. The floor (operators) reads what its work needs: items, machines, its own
# tasks and events, material, inspections and exceptions; not customers' orders, costs and
# rates, MRP, capacity or the schedule.
PEOPLE = (OP, INSP, SUP, PLAN, COST, SCD, PM, QS, MAINT)
EVERYONE = (*PEOPLE, INTEG)
OFFICE = (PLAN, SUP, PM, SCD, COST)
# Master data and orders: everyone off the floor, and the systems that integrate.
OFF_FLOOR = (INSP, SUP, PLAN, COST, SCD, PM, QS, MAINT, INTEG)
PLANNING_READERS = (PLAN, SUP, PM, SCD, COST, INTEG)
QUALITY = (INSP, QS, SUP, PM)
COSTING_READERS = (COST, PLAN, PM)
# An exception may be routed to any role of the office or of quality (execution's rules).
ANSWERERS = (INSP, SUP, PLAN, COST, SCD, PM, QS, MAINT)


def _master(writers: tuple[str, ...], readers: tuple[str, ...] = EVERYONE) -> dict:
    """Master data: readers view; the writers add, change and delete."""
    return {"view": readers, "add": writers, "change": writers, "delete": writers}


POLICY: dict[str, dict[str, tuple[str, ...]]] = {
    # --- core ---------------------------------------------------------------------------------
    "core.audit": {"view": (PM,)},
    # The plant manager's key figures (core.homes: each app declares its tiles).
    "core.kpis": {"view": (PM,)},
    "core.notification": {"view": PEOPLE},
    # One's own preferences (the pages' language): everyone signed in sets their own.
    "core.userpreference": {"change": EVERYONE},
    "core.api_docs": {"view": (*OFFICE, QS, MAINT, INTEG)},
    # Money: standard costs, labour and machine rates (hidden from others in the API).
    "costing.cost": {"view": COSTING_READERS},
    # --- costing ------------------------------------------------------------------------------
    # Cost versions with their rates and prices (kept under the version: MODEL_RESOURCES), and
    # the standard cost roll-up's results: read by whoever answers for cost, kept by cost
    # accountants; not the floor, quality or supply.
    "costing.costversion": {**_master((COST,), COSTING_READERS), "make_current": (COST,)},
    "costing.rollup": {"view": COSTING_READERS, "run": (COST,)},
    # Actual cost per production order (the ledger posted from the floor's records) and its
    # variances against the standard; post: run the catch-up posting. A training need raised
    # from a variance goes to the plant manager's inbox.
    "costing.actual": {"view": COSTING_READERS, "post": (COST,)},
    "costing.variance": {"view": COSTING_READERS, "raise_training_need": (COST, PM)},
    # --- resources: the plant, its calendars, items and stock ---------------------------------
    "resources.site": _master(()),
    "resources.area": _master(()),
    "resources.workcenter": _master((PLAN, MAINT)),
    "resources.equipment": _master((MAINT,)),
    "resources.shiftpattern": _master((MAINT,), OFF_FLOOR),
    "resources.holiday": _master((MAINT,), OFF_FLOOR),
    "resources.maintenancewindow": _master((MAINT,), OFF_FLOOR),
    "resources.item": _master((PLAN,)),
    "resources.stocklocation": _master((SCD,)),
    "resources.materiallot": _master((SCD,)),
    "resources.serialunit": {"view": EVERYONE},
    "resources.stockbalance": {"view": EVERYONE},
    # The stock ledger: read by all; adjusted by the supply-chain director (issues and
    # receipts on the floor go through execution's actions). adjust: an adjustment or a
    # reversal, signed (resources/services/stock.py), whoever else adds the move.
    "resources.stockmove": {"view": EVERYONE, "add": (SCD,), "adjust": (SCD,)},
    # The ERP places purchase orders (by its reference) and records confirmations.
    "resources.purchaseorder": {
        **_master((SCD, INTEG), PLANNING_READERS),
        "confirm": (SCD, INTEG),
        "close": (SCD, INTEG),
    },
    # People and their skills and shifts: the supervisor, or the HR system that keeps them.
    "resources.skill": _master((SUP, INTEG), OFF_FLOOR),
    "resources.operator": _master((SUP, INTEG), OFF_FLOOR),
    "resources.shiftassignment": _master((SUP, INTEG), OFF_FLOOR),
    # --- planning -----------------------------------------------------------------------------
    "planning.bom": _master((PLAN,), OFF_FLOOR),
    "planning.routing": _master((PLAN,), OFF_FLOOR),
    "planning.salesorder": _master((PLAN,), PLANNING_READERS),
    "planning.forecast": _master((PLAN,), PLANNING_READERS),
    "planning.mpsentry": _master((PLAN,), PLANNING_READERS),
    "planning.productionorder": {
        "view": (*PLANNING_READERS, OP, INSP, QS),
        # An ERP creates orders, and updates them by its reference (quantity, due date,
        # priority while draft or planned) — not "change", which would open the admin's form.
        "add": (PLAN, SUP, INTEG),
        "update": (PLAN, SUP, INTEG),
        "plan": (PLAN, SUP),
        "release": (PLAN, SUP),
        "start": (PLAN, SUP),
        "complete": (PLAN, SUP),
        "close": (PLAN, SUP),
        "cancel": (PLAN, SUP),
    },
    # The ERP that buys answers a requisition: ordered (confirm) or not (close).
    "planning.purchaserequisition": {
        **_master((SCD,), PLANNING_READERS),
        "confirm": (SCD, INTEG),
        "close": (SCD, INTEG),
    },
    "planning.capacity": {"view": (PLAN, SUP, PM, SCD, INTEG), "check": (PLAN, SUP)},
    # move: drag an operation on the Gantt (pinned there, the rest rescheduled).
    "planning.schedule": {
        "view": (PLAN, SUP, PM, SCD, INTEG),
        "run": (PLAN, SUP),
        "move": (PLAN, SUP),
    },
    "planning.mrp": {"view": (PLAN, PM, SCD, INTEG), "run": (PLAN,), "firm": (PLAN,)},
    # Master-data files (items, BOMs, routings) imported in bulk.
    "planning.importjob": {"view": (), "add": ()},
    # --- execution ----------------------------------------------------------------------------
    # Tasks: operators see and act on their own (execution/selectors/ownership.py); events on
    # a task come from its operator, its work center's supervisor or a service account
    # linked to its work center.
    "execution.task": {
        "view": (OP, INSP, SUP, PLAN, PM, SCD, QS, INTEG),
        "assign": (SUP, PLAN),
        "dispatch": (OP, INSP, SUP, PLAN, INTEG),
        "record": (OP, INSP, SUP, INTEG),
    },
    "execution.productionevent": {
        "view": (OP, INSP, SUP, PLAN, PM, SCD, QS, COST, INTEG),
        "add": (OP, INSP, SUP, INTEG),
    },
    "execution.dispatchdecision": {"view": (*OFFICE, INTEG)},
    # Events held for approval (backdated, over-delivering): decided, signed, by a supervisor
    # of the task's work center (execution/services/approvals.py); senders see their own.
    "execution.eventapproval": {
        "view": (OP, INSP, SUP, PLAN, PM, SCD, QS, INTEG),
        "approve": (SUP,),
    },
    # Labour bookings: corrected, signed, by a supervisor; operators see their own.
    "execution.labourbooking": {
        "view": (OP, INSP, SUP, PLAN, PM, COST),
        "correct": (SUP,),
    },
    "execution.materialrequirement": {
        "view": EVERYONE,
        # Issuing against a requirement: operators for their own tasks only.
        "issue": (OP, INSP, SUP, SCD, INTEG),
    },
    "execution.materialissue": {"view": EVERYONE, "add": (OP, INSP, SUP, SCD, INTEG)},
    "execution.issueapproval": {"view": (*OFFICE, QS), "approve": (PLAN,)},
    "execution.materialshortage": {"view": EVERYONE},
    "execution.receipt": {"add": (OP, SUP, SCD, INTEG)},
    "execution.workalert": {
        "view": EVERYONE,
        "add": EVERYONE,
        # Whom an exception is routed to answers it (execution/selectors/ownership.py).
        "acknowledge": ANSWERERS,
        "resolve": ANSWERERS,
        "verify": (SUP, PM, QS),
        "backup": (SUP, PLAN, PM),
    },
    "execution.alertrule": _master((), (SUP, PM, QS)),
    "execution.progress": {"view": EVERYONE, "rollup": (SUP, PLAN)},
    "execution.board": {"view": (SUP, PLAN, PM, SCD, QS, INSP, OP, INTEG)},
    "execution.labour": {"view": (SUP, PLAN, COST)},
    "execution.terminal": {"view": (OP, INSP, SUP)},
    "execution.supervisor": {"view": (SUP, PLAN)},
    # --- quality ------------------------------------------------------------------------------
    "quality.inspectionplan": {**_master((QS,)), "new_version": (QS,)},
    "quality.defectcode": _master((QS,)),
    "quality.defectraterule": _master((QS,)),
    # add_any: record on any task (operators on their own only, quality/selectors/
    # ownership.py); correct_any: correct any record, not only one they recorded or a record
    # it corrects (quality/services/records.py).
    "quality.inspectionrecord": {
        "view": (*PEOPLE, INTEG),
        "add": (INSP, OP, SUP, QS),
        "add_any": (INSP, SUP, QS),
        "correct": (INSP, OP, SUP, QS),
        "correct_any": (QS,),
        "disposition": (INSP, SUP, QS),
        "use_as_is": (QS,),
    },
    "quality.disposition": {"view": (*QUALITY, PLAN)},
    "quality.qualityhold": {"view": EVERYONE, "release": (QS,)},
    "quality.trace": {"view": EVERYONE},
    "quality.tracecode": {"view": EVERYONE, "issue": (SUP, PLAN, QS)},
    "quality.report": {"view": (*QUALITY, PLAN, PM, INTEG)},
    # The inspection entry page (quality's desk; operators record theirs at the terminal).
    "quality.inspect": {"view": (INSP, SUP, QS)},
    # --- devices ------------------------------------------------------------------------------
    # The device map (endpoints, their machines and signals): kept by maintenance, who wire
    # the PLCs; read by the office that plans on the machines and by integrating systems.
    # `load` replaces the whole map at once (POST /api/v1/devices/map/, devices_load).
    "devices.endpoint": {
        **_master((MAINT,), (SUP, PLAN, PM, MAINT, INTEG)),
        "load": (MAINT,),
    },
    # Downtime reasons: kept by maintenance and supervisors; everyone reads them (operators
    # give one to a stop from the terminal).
    "devices.downtimereason": _master((MAINT, SUP)),
    # What the machines said: state intervals, raw and hourly telemetry, counted totals.
    # Read by whoever answers for the machines' output, upkeep or process; not the floor's
    # terminals (they show their own machine's state) nor costing or supply.
    "devices.stateinterval": {"view": (SUP, PLAN, PM, MAINT, QS, INSP, INTEG)},
    "devices.telemetry": {"view": (SUP, PLAN, PM, MAINT, QS, INSP, INTEG)},
    "devices.counter": {"view": (SUP, PLAN, PM, MAINT, QS, COST, INTEG)},
    # OEE: the board, its drill-down and the API.
    "devices.oee": {"view": (SUP, PLAN, PM, MAINT, QS, INTEG)},
    # Why a machine stood still: an operator of the machine's work center or its supervisor
    # gives a stop its downtime reason (devices/services/downtime.py).
    "devices.downtime": {"view": (OP, SUP, PM, MAINT), "reason": (OP, SUP)},
    # --- integration: B2MML (ISA-95) documents, docs/b2mml.md ---------------------------------
    # Orders in and out as an ERP exchanges them: whoever plans (planners) and the systems
    # that integrate import; the office that reads orders exports.
    "integration.b2mml_schedule": {"view": (PLAN, SUP, PM, SCD, INTEG), "import": (PLAN, INTEG)},
    # Actuals: an MES's performance books events as the floor's supervisor or a service
    # account of the work center would (execution's object rule still applies per task).
    "integration.b2mml_performance": {
        "view": (SUP, PLAN, PM, SCD, COST, INTEG),
        "import": (SUP, INTEG),
    },
    "integration.b2mml_alerts": {"view": (SUP, PLAN, PM, QS, MAINT, INTEG)},
    # Master data from documents: whoever keeps that master data in the admin, and the
    # systems that integrate (resources.equipment, resources.item, resources.operator).
    "integration.b2mml_equipment": {"import": (MAINT, INTEG)},
    "integration.b2mml_material": {"import": (PLAN, INTEG)},
    "integration.b2mml_personnel": {"import": (SUP, INTEG)},
    # Outbound events (docs/integration.md, "Webhooks"): the systems that integrate keep
    # their own subscriptions and replay their dead letters; the plant manager looks on.
    "integration.subscription": _master((INTEG,), (PM, INTEG)),
    "integration.delivery": {"view": (PM, INTEG), "replay": (INTEG,)},
    # Legacy sync (docs/integration.md, "Legacy sync"): the systems that integrate keep the
    # sources read from old systems without an API and run them at once; the plant manager
    # reads the runs and their rejected rows.
    "integration.legacysource": {**_master((INTEG,), (PM, INTEG)), "run": (INTEG,)},
    "integration.legacysyncrun": {"view": (PM, INTEG)},
}

# Models kept in the admin under their parent's resource (a BOM's lines are the BOM).
MODEL_RESOURCES = {
    "planning.bomline": "planning.bom",
    "planning.routingstep": "planning.routing",
    "planning.mrprun": "planning.mrp",
    "planning.plannedorder": "planning.mrp",
    "planning.scheduleassignment": "planning.schedule",
    "planning.schedulerun": "planning.schedule",
    "resources.purchaseorderline": "resources.purchaseorder",
    "resources.operatorskill": "resources.operator",
    "resources.equipmentchangeover": "resources.equipment",
    "quality.characteristic": "quality.inspectionplan",
    "quality.measurement": "quality.inspectionrecord",
    "devices.equipmentlink": "devices.endpoint",
    "devices.signal": "devices.endpoint",
    "devices.telemetryhourly": "devices.telemetry",
    "devices.productioncount": "devices.counter",
    "devices.counthour": "devices.counter",
    "costing.labourrate": "costing.costversion",
    "costing.machinerate": "costing.costversion",
    "costing.overheadrate": "costing.costversion",
    "costing.purchaseprice": "costing.costversion",
    "costing.costrolluprun": "costing.rollup",
    "costing.itemcost": "costing.rollup",
    "costing.itemcostline": "costing.rollup",
    "costing.lotprice": "costing.costversion",
    "costing.ordercostentry": "costing.actual",
    "costing.trainingneed": "costing.variance",
    "integration.legacyrejectedrow": "integration.legacysyncrun",
    "integration.legacyfile": "integration.legacysyncrun",
}

# How DRF's and the admin's verbs read in the policy.
VIEWSET_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "metadata": "view",
}
METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


# --- object rules registered by the apps ----------------------------------------------------

# resource -> rule(user, action, obj) answering True/False, or None when it has no rule for
# that action (the role alone decides).
ObjectRule = Callable[[object, str, object], bool | None]
_scopes: dict[str, ObjectRule] = {}


def scope_register(resource: str, rule: ObjectRule) -> None:
    """Register the object rule of a resource (from the owning app's `ready()`)."""
    if resource not in POLICY:
        raise ImproperlyConfigured(f"No resource {resource!r} in the policy.")
    _scopes[resource] = rule


# --- the questions --------------------------------------------------------------------------


def resource_for_model(label_lower: str) -> str:
    return MODEL_RESOURCES.get(label_lower, label_lower)


def roles_for(resource: str, action: str) -> tuple[str, ...]:
    """The roles the table lets take `action` on `resource` (administrators besides)."""
    try:
        return POLICY[resource][action]
    except KeyError:
        raise ImproperlyConfigured(f"The policy declares no {resource!r} / {action!r}.") from None


def split(permission: str) -> tuple[str, str]:
    """ "planning.mrp.run" -> ("planning.mrp", "run")."""
    resource, _, action = permission.rpartition(".")
    roles_for(resource, action)
    return resource, action


def is_administrator(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or Role.ADMIN in user_roles(user)
    )


def may(user, resource: str, action: str, obj=None) -> bool:
    """May this user take `action` on `resource` (and on `obj`, when given)?"""
    allowed = roles_for(resource, action)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_administrator(user):
        return True
    if not user_roles(user).intersection(allowed):
        return False
    if obj is not None and resource in _scopes:
        decided = _scopes[resource](user, action, obj)
        if decided is not None:
            return decided
    return True


def can(user, permission: str, obj=None) -> bool:
    """`may` with the dotted form pages and templates use: "planning.mrp.run"."""
    resource, action = split(permission)
    return may(user, resource, action, obj)


def require(user, resource: str, action: str, obj=None, message: str = "") -> None:
    """Raise PermissionDenied unless `may` answers yes."""
    if not may(user, resource, action, obj):
        raise PermissionDenied(message or refusal(resource, action))


# Where the plain "who may do this" sentence is not the one people know.
REFUSALS = {
    ("quality.qualityhold", "release"): gettext_noop(
        "Only a quality supervisor may release a quality hold."
    ),
}


def refusal(resource: str, action: str) -> str:
    """The sentence a refused person reads, in their language: who may do it."""
    if (resource, action) in REFUSALS:
        return gettext(REFUSALS[resource, action])
    roles = roles_for(resource, action)
    if not roles:
        return gettext("Only an administrator may do this.")
    named = []
    for role in roles:
        label = role_label(role).lower()
        # The article follows the English label; languages without articles drop it.
        if Role.LABELS[role][0].lower() in "aeiou":
            named.append(gettext("an %(role)s") % {"role": label})
        else:
            named.append(gettext("a %(role)s") % {"role": label})
    who = named[0] if len(named) == 1 else list_text(named[:-1]) + gettext(" or ") + named[-1]
    return gettext("Only %(who)s may do this.") % {"who": who}


# --- the admin site -------------------------------------------------------------------------

ADMIN_ACTIONS = ("view", "add", "change", "delete")


class PolicyBackend:
    """Django's model permissions (`app.change_model`, which every ModelAdmin asks) answered
    from the policy: a role sees and edits in the admin exactly what the policy lets it.
    Models the policy does not name stay with administrators (and superusers)."""

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user, perm: str, obj=None) -> bool:
        app_label, _, codename = perm.partition(".")
        action, _, model = codename.partition("_")
        if action not in ADMIN_ACTIONS:
            return False
        resource = resource_for_model(f"{app_label}.{model}")
        if action not in POLICY.get(resource, {}):
            return False
        return may(user, resource, action)

    def has_module_perms(self, user, app_label: str) -> bool:
        return any(
            may(user, resource, "view")
            for resource, actions in POLICY.items()
            if resource.startswith(app_label + ".") and "view" in actions
        )


def admin_maintains(request, site) -> bool:
    """Does this user keep anything in the admin site: may they add, change or delete one of
    its models (each ModelAdmin asking the policy, through `PolicyBackend`)?"""
    return any(
        model_admin.has_add_permission(request)
        or model_admin.has_change_permission(request)
        or model_admin.has_delete_permission(request)
        for model_admin in site._registry.values()
    )


def admin_site_permission(site):
    """The admin site's door: open to whoever maintains one of its models (no staff flag);
    inside, they also see read-only what the policy lets them view. The admin is where
    master data is kept: a role that keeps none has no use for it."""

    def has_permission(request) -> bool:
        user = request.user
        if not (user.is_active and user.is_authenticated):
            return False
        return is_administrator(user) or admin_maintains(request, site)

    return has_permission


# --- the generated table (docs/permissions.md) ----------------------------------------------

DOC_ROLES = (OP, INSP, SUP, PLAN, COST, SCD, PM, QS, MAINT, INTEG)
DOC_ABBREVIATIONS = {
    OP: "Op",
    INSP: "Insp",
    SUP: "Sup",
    PLAN: "Plan",
    COST: "Cost",
    SCD: "SCD",
    PM: "PM",
    QS: "QS",
    MAINT: "Maint",
    INTEG: "Integ",
}


def policy_markdown() -> str:
    """docs/permissions.md: the policy as a table, one row per resource and action."""
    legend = ", ".join(f"{DOC_ABBREVIATIONS[r]} = {Role.LABELS[r].lower()}" for r in DOC_ROLES)
    lines = [
        "# Permissions",
        "",
        "Generated from `core/policy.py` by `python manage.py policy_doc`; do not edit by hand",
        "(`tests/core/test_policy_doc.py` fails when this file and the code differ).",
        "",
        "Who may do what. Administrators (the *Administrator* role, or a superuser) may",
        "everything and are not listed. A resource named after a model (`resources.item`) is",
        "also what the admin site shows: *view* lets a role see the model's list, *add*,",
        "*change* and *delete* let it edit there, as in the API. Object rules narrow some",
        "actions further; they are listed below the table.",
        "",
        f"Roles: {legend}.",
        "",
        "| resource | action | " + " | ".join(DOC_ABBREVIATIONS[r] for r in DOC_ROLES) + " |",
        "|---|---|" + "|".join(":-:" for _ in DOC_ROLES) + "|",
    ]
    for resource in sorted(POLICY):
        for action, roles in POLICY[resource].items():
            marks = " | ".join("✓" if r in roles else "" for r in DOC_ROLES)
            lines.append(f"| `{resource}` | {action} | {marks} |")
    lines += ["", "## Object rules", ""]
    for resource in sorted(_scopes):
        rule = _scopes[resource]
        doc = " ".join((rule.__doc__ or "").split())
        lines.append(f"- `{resource}`: `{rule.__module__}.{rule.__name__}` — {doc}")
    lines += [
        "",
        "## Admin models kept under another resource",
        "",
        *(f"- `{model}` → `{resource}`" for model, resource in sorted(MODEL_RESOURCES.items())),
        "",
    ]
    return "\n".join(lines)
