"""The top bar: the pages each role works in.

Each app declares its own entries in `AppConfig.ready()` with `nav_register`, next to the
pages it owns; the bar is built from those declarations, never from a central list. The bar
lists what a role's work needs (the entry's `roles`), so an operator at a touch terminal
sees four entries, not fifteen; and only pages the permission policy lets the role open
(the page's `policy_required`, core/policy.py), so no entry answers 403. Administrators see
everything.
"""

from dataclasses import dataclass

from django.urls import resolve, reverse
from django.utils.translation import gettext

from . import policy
from .roles import user_has_role


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
    """Declare a top-bar entry (from an app's `ready()`); declaring it again replaces it.
    The label is the English, marked with gettext_noop in the declaring app (whose catalogue
    translates it); the bar shows it in the reader's language."""
    _entries[url_name] = NavEntry(label, url_name, tuple(roles), position)


def nav_declared() -> list[NavEntry]:
    return sorted(_entries.values(), key=lambda entry: (entry.position, entry.label))


def nav_entries(user) -> list[tuple[str, str]]:
    """(label, URL) of the pages listed for this user, in the bar's order."""
    if not getattr(user, "is_authenticated", False):
        return []
    entries = []
    for entry in nav_declared():
        url = reverse(entry.url_name)
        if user_has_role(user, *entry.roles) and page_allowed(user, url):
            entries.append((gettext(entry.label), url))
    return entries


def page_allowed(user, url: str) -> bool:
    """May this user open the page at `url`? Its view's `policy_required` says; a page that
    declares nothing is open to everyone signed in."""
    permission = getattr(resolve(url).func, "policy_permission", None)
    return permission is None or policy.can(user, permission)


def navigation(request) -> dict:
    """Context processor: the top bar's entries, and whether it links the API docs and the
    admin site."""
    user = request.user
    return {
        "nav_entries": nav_entries(user),
        "nav_api": policy.can(user, "core.api_docs.view"),
        "nav_admin": admin_allowed(request),
    }


def admin_allowed(request) -> bool:
    """Whether the admin site lets this request's user in (its `has_permission`)."""
    from django.contrib import admin

    return admin.site.has_permission(request)
