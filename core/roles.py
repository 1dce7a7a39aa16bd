"""Role names (Django groups) and permission helpers."""

from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

from .rawsql import cursor_prepared


class Role:
    OPERATOR = "operator"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    PLANNER = "planner"
    COST_ACCOUNTANT = "cost_accountant"
    SUPPLY_CHAIN_DIRECTOR = "supply_chain_director"
    PLANT_MANAGER = "plant_manager"
    QUALITY_SUPERVISOR = "quality_supervisor"
    ADMIN = "admin"
    # Maintenance and engineering: equipment, calendars, shifts and maintenance windows.
    MAINTENANCE = "maintenance"
    # Service accounts: another system or a machine signing in with an API token (core.tokens).
    INTEGRATION = "integration"

    ALL = (
        OPERATOR,
        INSPECTOR,
        SUPERVISOR,
        PLANNER,
        COST_ACCOUNTANT,
        SUPPLY_CHAIN_DIRECTOR,
        PLANT_MANAGER,
        QUALITY_SUPERVISOR,
        ADMIN,
        INTEGRATION,
        MAINTENANCE,
    )
    LABELS = {
        OPERATOR: _("Operator"),
        INSPECTOR: _("Inspector"),
        SUPERVISOR: _("Production supervisor"),
        PLANNER: _("Planner"),
        COST_ACCOUNTANT: _("Cost accountant"),
        SUPPLY_CHAIN_DIRECTOR: _("Supply-chain director"),
        PLANT_MANAGER: _("Plant manager"),
        QUALITY_SUPERVISOR: _("Quality supervisor"),
        ADMIN: _("Administrator"),
        INTEGRATION: _("Integration (service account)"),
        MAINTENANCE: _("Maintenance / engineering"),
    }


def role_label(role: str) -> str:
    """A role's name in the reader's language (Role.LABELS holds the English, marked for
    translation; code that compares or logs labels keeps reading those)."""
    label = Role.LABELS.get(role)
    return gettext(label) if label else role


# Groups of roles that several apps' pages and menus name.
OFFICE_ROLES = (
    Role.PLANNER,
    Role.SUPERVISOR,
    Role.PLANT_MANAGER,
    Role.SUPPLY_CHAIN_DIRECTOR,
    Role.COST_ACCOUNTANT,
)
MANAGING_ROLES = (Role.PLANNER, Role.SUPERVISOR, Role.PLANT_MANAGER, Role.SUPPLY_CHAIN_DIRECTOR)
QUALITY_ROLES = (Role.INSPECTOR, Role.QUALITY_SUPERVISOR, Role.SUPERVISOR, Role.PLANT_MANAGER)


def roles_ensure() -> list[Group]:
    """Create the role groups that do not exist yet; idempotent."""
    return [Group.objects.get_or_create(name=name)[0] for name in Role.ALL]


def user_roles(user) -> set[str]:
    """The names of the user's roles, read once per user object."""
    if not getattr(user, "is_authenticated", False):
        return set()
    names = getattr(user, "_role_names", None)
    if names is None:
        with cursor_prepared() as cursor:
            cursor.execute(_roles_sql(user._meta.concrete_model), [user.pk])
            names = {name for (name,) in cursor.fetchall()}
        user._role_names = names
    return names


_sql: dict[tuple[str, type], str] = {}


def _roles_sql(user_model) -> str:
    """`user.groups.values_list("name")` written out once per user model: every API request
    asks it (the policy's permission class), and building the ORM's join cost more CPU than
    running it; prepared (core/rawsql.py), it is planned once per connection."""
    key = (connection.vendor, user_model)
    if key not in _sql:
        qn = connection.ops.quote_name
        groups = user_model._meta.get_field("groups")
        group = groups.related_model._meta
        _sql[key] = (
            f"SELECT g.{qn(group.get_field('name').column)} FROM {qn(group.db_table)} g "
            f"INNER JOIN {qn(groups.m2m_db_table())} m "
            f"ON m.{qn(groups.m2m_reverse_name())} = g.{qn(group.pk.column)} "
            f"WHERE m.{qn(groups.m2m_column_name())} = %s"
        )
    return _sql[key]


def user_with_roles_sql(user_model, columns) -> str:
    """The user's row (`columns`, aliased "u") with one role name per row after it (NULL
    for a user without roles), by key: the signed-in user and its roles in one statement
    (core/auth.py)."""
    qn = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = user_model._meta
    groups = meta.get_field("groups")
    group = groups.related_model._meta
    return (
        f"SELECT {columns.sql()}, g.{qn(group.get_field('name').column)} "
        f"FROM {qn(meta.db_table)} u "
        f"LEFT OUTER JOIN {qn(groups.m2m_db_table())} m "
        f"ON m.{qn(groups.m2m_column_name())} = u.{qn(meta.pk.column)} "
        f"LEFT OUTER JOIN {qn(group.db_table)} g "
        f"ON g.{qn(group.pk.column)} = m.{qn(groups.m2m_reverse_name())} "
        f"WHERE u.{qn(meta.pk.column)} = %s"
    )


def user_has_role(user, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    names = user_roles(user)
    return bool(names.intersection(roles)) or Role.ADMIN in names
