"""The top bar: the pages each role works in.

Each app declares its own entries in `AppConfig.ready()` with `nav_register`, next to the
pages it owns; the bar is built from those declarations, never from a central list. Every
signed-in user may open the read-only pages by their address; the bar lists what a role's
work needs, so an operator at a touch terminal sees four entries, not fifteen. Pages that
refuse a role (403) are never listed for it. Administrators see everything.
"""

from dataclasses import dataclass

from django.urls import reverse

from .roles import OFFICE_ROLES, Role, user_has_role


@dataclass(frozen=True)
class NavEntry:
    """One link of the top bar: its label, URL name, the roles it is listed for and its place
    (smaller first; apps leave gaps so another app's entry can sit between theirs)."""

    label: str
    url_name: str
    roles: tuple[str, ...]
    position: int


_entries: dict[str, NavEntry] = {}


def nav_register(*, label: str, url_name: str, roles: tuple[str, ...], position: int) -> None:
    """Declare a top-bar entry (from an app's `ready()`); declaring it again replaces it."""
    _entries[url_name] = NavEntry(label, url_name, tuple(roles), position)


def nav_declared() -> list[NavEntry]:
    return sorted(_entries.values(), key=lambda entry: (entry.position, entry.label))


def nav_entries(user) -> list[tuple[str, str]]:
    """(label, URL) of the pages listed for this user, in the bar's order."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        (entry.label, reverse(entry.url_name))
        for entry in nav_declared()
        if user_has_role(user, *entry.roles)
    ]


# The API's documentation: for integrators and the office, not the floor.
API_ROLES = (*OFFICE_ROLES, Role.QUALITY_SUPERVISOR)


def navigation(request) -> dict:
    """Context processor: the top bar's entries, and whether it links the API docs."""
    user = request.user
    return {
        "nav_entries": nav_entries(user),
        "nav_api": getattr(user, "is_staff", False) or user_has_role(user, *API_ROLES),
    }
