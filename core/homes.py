"""Where each role lands, and the plant manager's key figures.

Like the top bar (core/navigation.py), both are declared by the apps that own the pages and
the figures, in `AppConfig.ready()`, never listed here:

- `home_register(role=..., url_name=..., priority=...)`: the page a role lands on after
  signing in and at `/`. A person with several roles lands on the home with the smallest
  priority among theirs that the policy lets them open (core/navigation.page_allowed); with
  none, on the generic page.
- `kpi_register(key=..., label=..., compute=..., position=..., url_name=...)`: one figure of
  the plant manager's KPI page. `compute(today)` reads the figure (an app's selector) and
  answers a `KpiValue`; the page shows the tiles in `position` order, each linking to the
  page that explains it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.urls import reverse

from .navigation import page_allowed
from .roles import user_roles


@dataclass(frozen=True)
class Home:
    role: str
    url_name: str
    priority: int


_homes: dict[str, Home] = {}


def home_register(*, role: str, url_name: str, priority: int) -> None:
    """Declare a role's landing page (from an app's `ready()`); declaring it again replaces
    it. Smaller priority wins for a person with several roles: the operator's terminal (a
    shared touch screen) before an office page, the office pages before quality's."""
    _homes[role] = Home(role, url_name, priority)


def homes_declared() -> list[Home]:
    return sorted(_homes.values(), key=lambda home: (home.priority, home.role))


def home_url(user) -> str | None:
    """The URL this person lands on, or None (the generic page) when no role of theirs has a
    home they may open."""
    if not getattr(user, "is_authenticated", False):
        return None
    roles = user_roles(user)
    for home in homes_declared():
        if home.role in roles:
            url = reverse(home.url_name)
            if page_allowed(user, url):
                return url
    return None


@dataclass(frozen=True)
class KpiValue:
    """A figure as the tile shows it. `value` is the number (None: nothing to measure yet, the
    tile says `empty`); `text` how it reads ("92.5 %", "3 late of 40"); `status` the tile's
    colour: "good", "warn", "bad" or "" (no judgement); `detail` a line below it."""

    value: Decimal | int | None
    text: str
    status: str = ""
    detail: str = ""
    empty: str = ""


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    compute: Callable[[date], KpiValue] = field(compare=False)
    position: int
    url_name: str | None = None


_kpis: dict[str, Kpi] = {}


def kpi_register(
    *,
    key: str,
    label: str,
    compute: Callable[[date], KpiValue],
    position: int,
    url_name: str | None = None,
) -> None:
    """Declare a KPI tile (from the owning app's `ready()`). `label` is the English, marked
    with gettext_noop in the declaring app; the page shows it in the reader's language."""
    _kpis[key] = Kpi(key, label, compute, position, url_name)


def kpis_declared() -> list[Kpi]:
    return sorted(_kpis.values(), key=lambda kpi: (kpi.position, kpi.key))
