"""The permission policy, walked: every API operation and every page, for every role.

For each operation of the OpenAPI schema (drf-spectacular's generator) and each page of the
URL resolver, as each demo user (one per role) and anonymously, the answer must be exactly
what `core/policy.py` says: 401 (API) or the login page (pages) without credentials, 403
where the policy refuses the role, and anything but a refusal where it allows.

Reads are made for real. A write is followed through authentication and the permission
check and then stopped before the view's own work (`Reached`), so the walk changes nothing
and starts no MRP or schedule run; the object rules (whose task, which work center) are
tested in test_policy_findings.py.

Every page a role opens is then searched for links, buttons and forms (href, hx-get,
hx-post, action): each must lead to a page or action that role may use.

The demo plant is loaded once for the module, in a transaction rolled back at its end.
"""

import re
from types import SimpleNamespace
from unittest import mock

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.routers import APIRootView
from rest_framework.test import APIClient
from rest_framework.views import APIView

from core import policy
from core.api import view_permission
from core.navigation import admin_allowed
from tests.conftest import pinned_instant

USERS = {
    "operator": "zhangsan",
    "inspector": "zhaoliu",
    "supervisor": "sunqi",
    "planner": "zhouba",
    "cost_accountant": "wujiu",
    "supply_chain_director": "zhengshi",
    "plant_manager": "qianyi",
    "quality_supervisor": "fengjie",
    "maintenance": "chenmo",
    "integration": "cnc-gateway",
    "admin": "admin",
}
NO_ID = "999999999"


class Reached(APIException):
    """The request passed authentication and the permission check."""

    status_code = 418
    default_detail = "reached the view"


class PageReached(Exception):
    """A page's policy_required let the request through."""


@pytest.fixture(scope="module")
def plant(django_db_setup, django_db_blocker):
    """The demo plant, loaded once for this module and rolled back after it."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(pinned_instant(), tick=False),
        transaction.atomic(),
    ):
        call_command("load_demo", "--quiet-logins", stdout=open("/dev/null", "w"))  # noqa: SIM115
        yield {role: get_user_model().objects.get(username=u) for role, u in USERS.items()}
        transaction.set_rollback(True)


@pytest.fixture
def users(plant, db):
    return plant


# --- the API ------------------------------------------------------------------------------


def _operations() -> list[tuple[str, str]]:
    spec = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _filled(path: str, admin_client: APIClient) -> str:
    """The path with an existing id (the first row of its list), or one that exists nowhere."""
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        value = NO_ID
        if path[start + 1 : end] == "id":
            listing = admin_client.get(path[:start])
            if listing.status_code == 200:
                body = listing.json()
                rows = body.get("results", body) if isinstance(body, dict) else body
                if rows and isinstance(rows[0], dict) and "id" in rows[0]:
                    value = str(rows[0]["id"])
        path = path[:start] + value + path[end + 1 :]
    return path


def _expected(url: str, method: str, user) -> tuple[str, str, bool]:
    """What the policy says about this request: (resource, action, allowed)."""
    match = resolve(url)
    view = match.func.cls(**getattr(match.func, "initkwargs", {}))
    actions = getattr(match.func, "actions", None)
    view.action = actions.get(method.lower()) if actions else None
    resource, action = view_permission(view, SimpleNamespace(method=method))
    assert resource is not None, f"{method} {url}: the view declares no policy_resource"
    return resource, action, policy.may(user, resource, action)


def test_every_api_operation_answers_each_role_as_the_policy_says(users):
    admin_client = APIClient()
    admin_client.force_authenticate(users["admin"])
    operations = [(_filled(path, admin_client), method) for path, method in _operations()]
    assert len(operations) > 80
    original_initial = APIView.initial

    def initial_then_stop(self, request, *args, **kwargs):
        original_initial(self, request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            raise Reached()

    wrong = []
    seen = {True: 0, False: 0}  # the walk must meet both answers, many times
    with mock.patch.object(APIView, "initial", initial_then_stop):
        anonymous = APIClient()
        for url, method in operations:
            answer = getattr(anonymous, method.lower())(url, {}, format="json")
            if answer.status_code != status.HTTP_401_UNAUTHORIZED:
                wrong.append(f"anonymous {method} {url}: {answer.status_code}, not 401")
        for role, user in users.items():
            client = APIClient()
            client.force_authenticate(user)
            for url, method in operations:
                resource, action, allowed = _expected(url, method, user)
                seen[allowed] += 1
                send = getattr(client, method.lower())
                answer = send(url, {}, format="json") if method != "GET" else send(url)
                code = answer.status_code
                if allowed and method != "GET":
                    ok = code == Reached.status_code
                elif allowed:
                    ok = code not in (401, 403, 418) and code < 500
                else:
                    ok = code == status.HTTP_403_FORBIDDEN
                if not ok:
                    verdict = "allows" if allowed else "refuses"
                    wrong.append(
                        f"{role} {method} {url}: {code}, but the policy {verdict} "
                        f"{resource}.{action}"
                    )
    assert not wrong, "\n".join(wrong)
    assert seen[True] > 300 and seen[False] > 300, seen


def _api_views():
    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p, route)
            elif route.startswith("api/v1/"):
                yield route, p.callback

    return list(walk(get_resolver()))


def test_every_api_view_names_its_resource_in_the_policy():
    unnamed = []
    for route, callback in _api_views():
        cls = getattr(callback, "cls", None)
        if cls is None or issubclass(cls, APIRootView):
            continue
        resource = getattr(cls, "policy_resource", None)
        if resource not in policy.POLICY:
            unnamed.append(f"{route}: {cls.__name__} names {resource!r}")
    assert not unnamed, "\n".join(unnamed)


def test_a_view_that_declares_no_resource_is_refused_even_to_administrators(db):
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory

    class Undeclared(APIView):
        def get(self, request):
            return Response({"open": True})

    admin = get_user_model().objects.create_superuser("root", password="x")
    request = APIRequestFactory().get("/api/v1/undeclared/")
    request.user = admin
    from rest_framework.test import force_authenticate

    force_authenticate(request, user=admin)
    response = Undeclared.as_view()(request)
    assert response.status_code == 403


# --- pages --------------------------------------------------------------------------------


def _page_routes() -> list[tuple[str, object]]:
    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p, route)
            else:
                yield route, p.callback

    return [
        (route, callback)
        for route, callback in walk(get_resolver())
        if not route.startswith(("admin/", "api/", "accounts/", "static/", "oidc/"))
        and route != "healthz"
    ]


def _demo_values(users) -> dict[str, str]:
    from execution.models import Task, WorkAlert
    from planning.models import ProductionOrder

    order = ProductionOrder.objects.order_by("pk").first()
    task = Task.objects.filter(operator__user=users["operator"]).order_by("pk").first()
    alert = WorkAlert.objects.order_by("pk").first()
    return {
        "task": str(task.pk if task else NO_ID),
        "order_id": str(order.pk),
        "number": order.number,
        "alert": str(alert.pk if alert else NO_ID),
        "slug": "fpy",
        "code": "NOPE",
        "demand_id": "NOPE",
    }


def _page_url(route: str, values: dict[str, str]) -> tuple[str, dict]:
    """The route with its arguments filled from the demo plant (an id that exists nowhere
    where the demo has none), and those arguments (for the page's permission)."""
    kwargs = {}
    url = route
    for match in re.finditer(r"<(?:(\w+):)?(\w+)>", route):
        name = match.group(2)
        value = FIXED.get(name) or values.get(name, NO_ID)
        if name == "pk":
            value = NO_ID
            for fragment, key in PK_SOURCES.items():
                if fragment in route:
                    value = values[key]
        kwargs[name] = value
        url = url.replace(match.group(0), value, 1)
    return "/" + url, kwargs


# Which demo object a route's <pk> names; other ids name nothing (the page answers 404).
PK_SOURCES = {
    "terminal/task/": "task",
    "inspect/task/": "task",
    "exceptions/": "alert",
    "orders/<int:pk>": "order_id",
}
FIXED = {"action": "release", "act": "acknowledge", "decision": "approve", "slug": "fpy"}


def _page_permission(callback, kwargs) -> str | None:
    permission = getattr(callback, "policy_permission", None)
    return permission.format(**kwargs) if permission else None


def _user_may_open(user, url: str) -> bool | None:
    """May `user` use what this link or form leads to? None: not one of ours."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or path.startswith(("/static/", "/api/docs", "/api/schema")):
        return None
    if path.startswith("/admin/"):
        request = RequestFactory().get(path)
        request.user = user
        return admin_allowed(request)
    try:
        match = resolve(path)
    except Exception:  # noqa: BLE001  (a link to nowhere: reported by the caller)
        return False
    permission = _page_permission(match.func, match.kwargs)
    if permission is None:
        return True
    try:
        return policy.can(user, permission)
    except Exception:  # noqa: BLE001  (an action the policy does not know: a dead link)
        return False


LINK = re.compile(r'\b(?:href|hx-get|hx-post|action)="([^"]*)"')


def test_every_page_answers_each_role_as_the_policy_says_and_shows_only_usable_links(users):
    values = _demo_values(users)
    routes = [(*_page_url(route, values), cb) for route, cb in _page_routes()]
    assert len(routes) > 40
    original_require = policy.require

    def require_then_stop(user, resource, action, obj=None, message=""):
        original_require(user, resource, action, obj, message)
        if obj is None:
            raise PageReached()

    wrong = []
    seen = {True: 0, False: 0}
    anonymous = Client()
    for url, _kwargs, callback in routes:
        answer = anonymous.get(url)
        declared = getattr(callback, "policy_permission", None)
        to_login = answer.status_code == 302 and "/accounts/login/" in answer["Location"]
        if declared and not (to_login or answer.status_code == 405):
            wrong.append(f"anonymous GET {url}: {answer.status_code}, not the login page")
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        for url, kwargs, callback in routes:
            permission = _page_permission(callback, kwargs)
            allowed = permission is None or policy.can(user, permission)
            seen[allowed] += 1
            answer = client.get(url)
            code = answer.status_code
            if url == "/" and code == 302:  # the home sends each role on to its own page
                answer = client.get(answer["Location"])
                code = answer.status_code
            if code == 405:  # an action (POST only): stopped once the policy let it through
                with mock.patch.object(policy, "require", require_then_stop):
                    try:
                        code = client.post(url, {}).status_code
                    except PageReached:
                        code = "reached"
                ok = code == 403 if not allowed else code == "reached"
            else:
                ok = code == 403 if not allowed else code not in (302, 403) and code < 500
                if ok and code == 200 and answer.get("Content-Type", "").startswith("text/html"):
                    for link in LINK.findall(answer.content.decode()):
                        if _user_may_open(user, link) is False:
                            wrong.append(f"{role} GET {url} shows {link}, which it may not use")
            if not ok:
                verdict = "allows" if allowed else "refuses"
                wrong.append(f"{role} {url}: {code}, but the policy {verdict} {permission}")
    assert not wrong, "\n".join(wrong)
    assert seen[True] > 150 and seen[False] > 150, seen
