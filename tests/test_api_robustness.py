"""No request answers 500: every endpoint of the OpenAPI schema, fed bad input.

For each path and method the schema lists, as the administrator and as an operator: bodies
that are not objects, malformed JSON, objects whose every field holds a wrong value (null,
empty, too long, negative, not a number, not a date, nested where a scalar belongs), list
queries with nonsense filters and pages, unknown and malformed ids, and deletes of records
other records depend on. Each answer must be a client error or a success, never a server
error; Django's test client raises the exception of any 500, which names the culprit. Every
error answers the API's one error body (docs/api-errors.md).
"""

from itertools import cycle

import pytest
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

WRONG = [None, "", "x" * 1000, -1, "NaN", {"a": 1}, [1, 2], "2026-13-45T25:61:00", "1e400", True]
NOT_OBJECTS = [[], "text", 7, None]
PATH_VALUES = {"id": ["1", "999999999", "abc"], "other": ["MO-2026-00001", "NOPE", "%20"]}
BAD_QUERY = {"page": "abc", "page_size": "-1", "ordering": "nonsense", "limit": "x", "offset": "-5"}
PAGING = ("limit", "offset")
HUGE = "99999999999999999999"


def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def request_fields(operation: dict, components: dict) -> list[str]:
    content = (operation.get("requestBody") or {}).get("content") or {}
    body = content.get("application/json", {}).get("schema") or {}
    ref = body.get("$ref") or (body.get("items") or {}).get("$ref")
    if not ref:
        return []
    return list(components[ref.rsplit("/", 1)[-1]].get("properties", {}))


def urls(path: str) -> list[str]:
    """The path with each parameter filled with an existing, a missing and a malformed value."""
    if "{" not in path:
        return [path]
    name = path[path.index("{") + 1 : path.index("}")]
    values = PATH_VALUES["id" if name == "id" else "other"]
    filled = [path.replace("{" + name + "}", v, 1) for v in values]
    return [u for f in filled for u in urls(f)]


def check(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.status_code >= 400 and response.get("Content-Type") == "application/json":
        body = response.json()
        assert isinstance(body, dict), f"{what}: {body!r}"
        assert isinstance(body.get("detail"), str), f"{what}: {body!r}"
        assert isinstance(body.get("errors"), list), f"{what}: {body!r}"


def bodies(fields: list[str]) -> list:
    wrong = cycle(WRONG)
    shifted = cycle(WRONG[3:] + WRONG[:3])
    return [
        {},
        *NOT_OBJECTS,
        {f: next(wrong) for f in fields},
        {f: next(shifted) for f in fields},
        {f: "NUL\x00" for f in fields},
    ]


@pytest.mark.parametrize("username", ["admin", "zhangsan"])
def test_no_endpoint_answers_500_to_bad_input(demo_plant, username):
    spec = schema()
    components = spec["components"]["schemas"]
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch"):
                continue
            params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            fields = request_fields(operation, components)
            for url in urls(path):
                if method == "get":
                    for query in (
                        # the filters alone first: a bad page would stop the query before them
                        {p: "zzz" for p in params if p not in PAGING},
                        {p: "-1" for p in params},
                        {p: "zzz\x00" for p in params},
                        {**BAD_QUERY, **{p: "zzz" for p in params}},
                        {"limit": HUGE, "offset": HUGE},
                    ):
                        check(client.get(url, query), f"GET {url} {query}")
                    continue
                send = getattr(client, method)
                for body in bodies(fields):
                    check(send(url, body, format="json"), f"{method.upper()} {url} {body!r}")
                raw = send(url, data='{"broken": ', content_type="application/json")
                check(raw, f"{method.upper()} {url} malformed JSON")
                form = send(url, data="a=1&a=2", content_type="application/x-www-form-urlencoded")
                check(form, f"{method.upper()} {url} form body")


def test_deleting_what_others_depend_on_is_refused_not_a_500(demo_plant):
    """Items, routings, sites, locations and work centers of the demo plant are in use."""
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="admin"))
    spec = schema()
    for path, operations in spec["paths"].items():
        if "delete" not in operations:
            continue
        listing = client.get(path.replace("{id}/", "")).json()
        rows = listing.get("results", listing) if isinstance(listing, dict) else listing
        for row in rows[:5]:
            url = path.replace("{id}", str(row["id"]))
            check(client.delete(url), f"DELETE {url}")
        check(client.delete(path.replace("{id}", "999999999")), f"DELETE {path} missing")


# --- pages ----------------------------------------------------------------------------------

ARGS = {
    "int": ["1", "999999999"],
    "str": ["MO-2026-00001", "release", "approve", "NOPE"],
    "slug": ["fpy", "nope"],
    "path": ["EB-0001", "NOPE/x"],
}
PAGE_QUERY = {
    "status": "zzz",
    "sort": "zzz",
    "flag": "zzz",
    "work_center": "<b>",
    "start": "2026-13-01",
    "end": "x",
    "code": "'",
    "week": "x",
    "item": "NOPE",
    "page": "-1",
    "run": "²",
}
PAGE_FORM = {
    "quantity": "NaN",
    "quantity_good": "-1",
    "quantity_scrap": "1e400",
    "reason": "x" * 2000,
    "code": "ITEM*LOT*NaN",
    "event_id": "",
    "operator": "٣",
    "time_limit": "abc",
    "decision": "maybe",
    "alert_type": "nope",
    "severity": "nope",
    "sequence": "²",
    "task": "²",
    "order": "NOPE",
    "value": "x",
    "verdict": "x",
    "trace_code": "'",
}


def pages() -> list[str]:
    from django.urls import URLResolver, get_resolver

    def walk(resolver, prefix=""):
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p, route)
            else:
                yield route

    found = []
    for route in walk(get_resolver()):
        if route.startswith(("admin/", "api/", "accounts/", "static/")):
            continue
        found.extend(_filled(route))
    return found


def _filled(route: str) -> list[str]:
    if "<" not in route:
        return ["/" + route]
    start, end = route.index("<"), route.index(">")
    kind = route[start + 1 : end].split(":")[0] if ":" in route[start:end] else "str"
    return [
        url
        for value in ARGS.get(kind, ARGS["str"])
        for url in _filled(route[:start] + value + route[end + 1 :])
    ]


@pytest.mark.parametrize("username", ["admin", "zhangsan", "sunqi"])
def test_no_page_answers_500_to_bad_input(demo_plant, username):
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    for url in pages():
        for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
            check(client.get(url, PAGE_QUERY, **htmx), f"GET {url} {htmx}")
            check(client.post(url, {}, **htmx), f"POST {url} empty {htmx}")
            check(client.post(url, PAGE_FORM, **htmx), f"POST {url} wrong values {htmx}")
