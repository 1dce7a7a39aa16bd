"""The top bar: the pages each role works in.

Every signed-in user may open the read-only pages by their address; the bar lists what a
role's work needs, so an operator at a touch terminal sees four entries, not fifteen.
Pages that refuse a role (403) are never listed for it. Administrators see everything.
"""

from django.urls import reverse

from .roles import Role, user_has_role

R = Role
PLANNING = (R.PLANNER, R.SUPERVISOR, R.PLANT_MANAGER, R.SUPPLY_CHAIN_DIRECTOR, R.COST_ACCOUNTANT)
MANAGING = (R.PLANNER, R.SUPERVISOR, R.PLANT_MANAGER, R.SUPPLY_CHAIN_DIRECTOR)
QUALITY = (R.INSPECTOR, R.QUALITY_SUPERVISOR, R.SUPERVISOR, R.PLANT_MANAGER)

# (label, URL name, the roles it is listed for)
ENTRIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Orders", "planning:order_list", PLANNING),
    ("Sales", "planning:sales_orders", (R.PLANNER, R.PLANT_MANAGER, R.SUPPLY_CHAIN_DIRECTOR)),
    ("Capacity", "planning:capacity", MANAGING),
    ("Gantt", "planning:gantt", MANAGING),
    ("Schedule", "planning:schedule", MANAGING),
    ("MPS", "planning:mps", (R.PLANNER, R.PLANT_MANAGER, R.SUPPLY_CHAIN_DIRECTOR)),
    ("MRP", "planning:mrp", (R.PLANNER, R.PLANT_MANAGER, R.SUPPLY_CHAIN_DIRECTOR)),
    ("Exceptions", "execution:alerts", (*PLANNING, *QUALITY, R.OPERATOR)),
    # Recording inspections: who may record them (quality RECORD_ROLES) but operators, who
    # record theirs at the terminal.
    ("Inspect", "quality:inspect", (R.INSPECTOR, R.SUPERVISOR, R.QUALITY_SUPERVISOR)),
    ("Trace", "quality:trace", (*QUALITY, R.OPERATOR, R.PLANNER)),
    ("Holds", "quality:holds", QUALITY),
    ("Quality", "quality:reports", (*QUALITY, R.PLANNER)),
    ("Terminal", "execution:terminal", (R.OPERATOR,)),
    ("Supervisor", "execution:supervisor", (R.SUPERVISOR, R.PLANNER)),
    ("Board", "execution:board", (*MANAGING, R.QUALITY_SUPERVISOR, R.INSPECTOR)),
    # Master-data files (items, BOMs, routings): the administrators, as in the admin site.
    ("Import", "planning:imports", (R.ADMIN,)),
)


def nav_entries(user) -> list[tuple[str, str]]:
    """(label, URL) of the pages listed for this user, in the bar's order."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [(label, reverse(name)) for label, name, roles in ENTRIES if user_has_role(user, *roles)]


# The API's documentation: for integrators and the office, not the floor.
API_ROLES = (*PLANNING, R.QUALITY_SUPERVISOR)


def navigation(request) -> dict:
    """Context processor: the top bar's entries, and whether it links the API docs."""
    user = request.user
    return {
        "nav_entries": nav_entries(user),
        "nav_api": getattr(user, "is_staff", False) or user_has_role(user, *API_ROLES),
    }
