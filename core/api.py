"""API helpers shared by every app: one error body for every error, the exception handler
that never answers an HTML 500, the project's JSON parser, pagination and filter backend.

Every error answers `{"detail": "<one sentence>", "errors": [{"field" | "row", "code",
"message"}, ...]}` (docs/api-errors.md): `detail` for people, `errors` for programs; an entry
names the field (a dotted path into nested input) or the row of a batch it is about, and
`errors` is empty when nothing narrower than the whole request is at fault.
"""

import copy
import logging
from collections.abc import Iterator, Mapping

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse, UnreadablePostError
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy, gettext_noop, ngettext, pgettext
from django.views import defaults
from django_filters import widgets as filter_widgets
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings

from . import policy
from .exceptions import StateConflict
from .lists import list_text

# Where Django logs its own server errors (production may mail or ship them from there).
request_logger = logging.getLogger("django.request")

# Keys of a validation error that are about the input as a whole, not one field: DRF's,
# Django's, and the `{"detail": [...]}` some services raise.
NON_FIELD_KEYS = frozenset((api_settings.NON_FIELD_ERRORS_KEY, "__all__", "detail"))
NUL_CODE = "null_characters_not_allowed"  # DRF's own code for the same refusal
NUL_MESSAGE = gettext_noop("Null characters are not allowed.")
MAX_SUMMARY_NAMES = 5
# Translated when the answer is made, in the language the request asked for.
REQUEST_TOO_BIG = gettext_noop("The request body is too large.")
BAD_REQUEST = gettext_noop("The request could not be read.")
UNAVAILABLE = gettext_noop("The service is busy or unavailable; retry in a few seconds.")
SERVER_ERROR = gettext_noop("Something went wrong on the server; the error is logged.")
INVALID_INPUT = gettext_noop("Invalid input.")


# --- the error body ------------------------------------------------------------------------


def error_entry(message, *, field: str = "", row: int | None = None, code: str = "") -> dict:
    """One entry of `errors`: what is wrong, where (field and/or batch row), and its code."""
    entry: dict = {}
    if row is not None:
        entry["row"] = row
    if field:
        entry["field"] = field
    entry["code"] = code or getattr(message, "code", None) or "invalid"
    entry["message"] = str(message)
    return entry


def error_body(detail: str, errors: list[dict] | None = None, **extra) -> dict:
    """The one error body of the API; `extra` keeps an endpoint's documented additions
    (an ambiguous trace code's `candidates`, a rejected event's `event_id`)."""
    return {"detail": detail, "errors": list(errors or []), **extra}


def _join(path: str, key) -> str:
    key = str(key).replace("\x00", "\\u0000")
    return f"{path}.{key}" if path else key


def _is_message(value) -> bool:
    return isinstance(value, str)  # ErrorDetail is a str


def flatten_errors(data, path: str = "") -> tuple[list[str], list[dict]]:
    """DRF's error structure (dicts by field, lists of messages, lists by position for
    nested lists) as (messages about the whole input, entries naming their field)."""
    whole: list[str] = []
    entries: list[dict] = []

    def walk(value, at: str) -> None:
        if _is_message(value):
            if at:
                entries.append(error_entry(value, field=at))
            else:
                whole.append(str(value))
        elif isinstance(value, Mapping):
            for key, inner in value.items():
                # `detail` is a field's name below the top level; the others never are.
                whole_input = key in NON_FIELD_KEYS and (not at or key != "detail")
                walk(inner, at if whole_input else _join(at, key))
        elif isinstance(value, list | tuple):
            for index, inner in enumerate(value):
                walk(inner, at if _is_message(inner) else _join(at, index))

    if isinstance(data, list) and data and all(isinstance(v, Mapping) for v in data):
        # A list serializer's errors: one dict per row of the input, empty when it is fine.
        for row, value in enumerate(data):
            row_whole, row_entries = flatten_errors(value)
            entries += [error_entry(m, row=row) for m in row_whole]
            entries += [{"row": row, **e} for e in row_entries]
        return whole, entries
    walk(data, path)
    return whole, entries


def _label(entry: dict) -> str:
    parts = []
    if "row" in entry:
        parts.append(gettext("row %(row)s") % {"row": entry["row"]})
    if "field" in entry:
        parts.append(entry["field"])
    return " ".join(parts)


def summarize(whole: list[str], entries: list[dict], fallback: str = "") -> str:
    """One sentence for `detail`: the whole-input messages, then what the entries name."""
    parts = list(whole)
    labels = list(dict.fromkeys(_label(e) for e in entries))
    if len(labels) == 1:
        # Chinese puts a full-width colon after the name: 数量：必须大于零。
        parts.append(
            pgettext("an error's field or row, then its message", "%(label)s: %(message)s")
            % {"label": labels[0], "message": " ".join(e["message"] for e in entries)}
        )
    elif labels:
        named = list_text(labels[:MAX_SUMMARY_NAMES])
        more = len(labels) - MAX_SUMMARY_NAMES
        if more > 0:
            text = ngettext(
                "Invalid input in %(named)s and %(more)d more.",
                "Invalid input in %(named)s and %(more)d more.",
                more,
            ) % {"named": named, "more": more}
        else:
            text = gettext("Invalid input in %(named)s.") % {"named": named}
        parts.append(text)
    return " ".join(parts) or fallback or gettext(INVALID_INPUT)


def error_body_from(data, fallback: str = "") -> dict:
    """The error body for DRF's error data (a message, a list or a dict of them)."""
    whole, entries = flatten_errors(data)
    return error_body(summarize(whole, entries, fallback), entries)


# --- the exception handler ------------------------------------------------------------------


def _server_error(exc, context, status_code: int, detail: str) -> Response | None:
    """A server error as JSON: logged with its traceback, its message kept from the client.
    Under DEBUG Django's debug page shows it instead (None re-raises)."""
    from rest_framework import views  # see exception_handler

    if settings.DEBUG:
        return None
    request = getattr(context.get("request"), "_request", None)
    # What Django does for an unhandled exception: tell the listeners (error trackers, and
    # the test client, which re-raises it so a failing test names the culprit), then log.
    got_request_exception.send(sender=None, request=request)
    request_logger.error(
        "%s: %s",
        "Internal Server Error" if status_code == 500 else "Service Unavailable",
        getattr(request, "path", "?"),
        exc_info=exc,
        extra={"status_code": status_code, "request": request},
    )
    views.set_rollback()
    response = Response(error_body(gettext(detail)), status=status_code)
    if status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = "5"
    response._has_been_logged = True  # Django would log it again, without the traceback
    return response


def exception_handler(exc, context):
    """Every exception an API view raises, as the one error body (docs/api-errors.md)."""
    # Imported here: DRF's views read the settings, which name this module's parser.
    from rest_framework import views

    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(serializers.as_serializer_error(exc))
    if isinstance(exc, StateConflict):
        return Response(error_body(str(exc)), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProtectedError | RestrictedError):
        used_by = sorted({str(obj) for obj in list(exc.args[1])[:5]})
        return Response(
            error_body(
                gettext("Still in use by %(records)s; it cannot be deleted.")
                % {"records": list_text(used_by)}
            ),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body(gettext(REQUEST_TOO_BIG)), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, SuspiciousOperation | UnreadablePostError):
        # Django answers these 400 too (too many fields, a broken upload, a bad host).
        return Response(error_body(gettext(BAD_REQUEST)), status=status.HTTP_400_BAD_REQUEST)
    response = views.exception_handler(exc, context)
    if response is None:
        if isinstance(exc, OperationalError):
            # The database is down, busy or locked: a retry later may well succeed.
            return _server_error(exc, context, 503, UNAVAILABLE)
        return _server_error(exc, context, 500, SERVER_ERROR)
    response.data = error_body_from(response.data, fallback=response.status_text + ".")
    return response


# --- Django's error views: JSON under /api/, the usual pages elsewhere -----------------------


def is_api_request(request) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request, exception, template_name="400.html"):
    if not is_api_request(request):
        return defaults.bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body(gettext(REQUEST_TOO_BIG)), status=413)
    return JsonResponse(error_body(gettext(BAD_REQUEST)), status=400)


PERMISSION_DENIED = gettext_noop("You do not have permission to perform this action.")


def _htmx_message(request, text: str, status: int):
    """A refusal of an HTMX action: a message put in the page's #messages area, not a bare
    error page swapped over the part of the page that asked."""
    response = render(
        request, "partials/message.html", {"text": text, "status": status}, status=status
    )
    response["HX-Retarget"] = "#messages"
    response["HX-Reswap"] = "innerHTML"
    return response


def _exception_text(exception) -> str:
    # Http404 and PermissionDenied carry their message as the first argument.
    args = getattr(exception, "args", ())
    return str(args[0]) if args and isinstance(args[0], str) else ""


def permission_denied(request, exception, template_name="403.html"):
    text = _exception_text(exception) or gettext(PERMISSION_DENIED)
    if is_api_request(request):
        return JsonResponse(error_body(text), status=403)
    if request.headers.get("HX-Request"):
        return _htmx_message(request, text, 403)
    return render(request, template_name, {"text": text}, status=403)


def page_not_found(request, exception, template_name="404.html"):
    if is_api_request(request):
        text = gettext("No API endpoint at %(path)s.") % {"path": request.path}
        return JsonResponse(error_body(text), status=404)
    text = _exception_text(exception) or gettext("There is nothing at this address.")
    if request.headers.get("HX-Request"):
        return _htmx_message(request, text, 404)
    return render(request, template_name, {"text": text}, status=404)


def server_error(request, template_name="500.html"):
    if not is_api_request(request):
        return defaults.server_error(request, template_name)
    return JsonResponse(error_body(gettext(SERVER_ERROR)), status=500)


# --- input: NUL characters, pagination, query parameters -----------------------------------


def nul_paths(value, path: str = "") -> Iterator[str]:
    """The dotted paths of the strings (keys too) in parsed input that hold a NUL
    character, which no text column takes (PostgreSQL refuses it outright)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            if isinstance(key, str) and "\x00" in key:
                yield _join(path, key)
            yield from nul_paths(inner, _join(path, key))
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            yield from nul_paths(inner, _join(path, index))


def nul_refusal(paths) -> ValidationError:
    return ValidationError(
        {path or "body": [ErrorDetail(gettext(NUL_MESSAGE), code=NUL_CODE)] for path in paths}
    )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser that refuses a NUL character anywhere in the body with a 400 naming
    each field, before any view or serializer sees it."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        paths = list(nul_paths(data))
        if paths:
            raise nul_refusal(paths)
        return data


class Pagination(LimitOffsetPagination):
    """Limit/offset pages of at most `max_limit` rows. A larger `limit` is cut to the
    maximum. A `limit` below 1, an `offset` below 0, or either not a whole number is refused
    with a 400 naming it, where DRF would quietly answer the default page instead."""

    max_limit = 1000

    def _number(self, request, name: str, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        try:
            number = int(raw)
        except ValueError:
            number = None
        if number is None or number < minimum:
            message = gettext("Give a whole number of at least %(minimum)d.") % {"minimum": minimum}
            if name == self.limit_query_param:
                message = gettext("Give a whole number from 1 to %(maximum)d.") % {
                    "maximum": self.max_limit
                }
            raise ValidationError({name: [ErrorDetail(message, code="invalid")]})
        return number

    def get_limit(self, request):
        limit = self._number(request, self.limit_query_param, 1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return self._number(request, self.offset_query_param, 0) or 0


# Where DRF's paginators and filter backends keep the names of their query parameters.
PARAMETER_ATTRIBUTES = (
    "limit_query_param",
    "offset_query_param",
    "page_query_param",
    "page_size_query_param",
    "cursor_query_param",
    "ordering_param",
    "search_param",
)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend that also refuses query parameters the endpoint does not
    know, with a 400 naming them: a misspelt or unsupported filter would otherwise be
    ignored and answer every row as if it had matched."""

    def filter_queryset(self, request, queryset, view):
        known = self.known_parameters(view, queryset)
        unknown = [name for name in request.query_params if name not in known]
        if unknown:
            accepted = list_text(sorted(known - {""})) or gettext("none")
            raise ValidationError(
                {
                    name: [
                        ErrorDetail(
                            gettext("Unknown query parameter; this endpoint takes %(accepted)s.")
                            % {"accepted": accepted},
                            code="unknown_parameter",
                        )
                    ]
                    for name in unknown
                }
            )
        return super().filter_queryset(request, queryset, view)

    def known_parameters(self, view, queryset) -> set[str]:
        known = {api_settings.URL_FORMAT_OVERRIDE or ""}
        filterset_class = self.get_filterset_class(view, queryset)
        for name, filter_ in (filterset_class.base_filters if filterset_class else {}).items():
            known.add(name)
            widget = filter_.field.widget
            if isinstance(widget, filter_widgets.SuffixedMultiWidget):
                known.update(widget.suffixed(name, suffix) for suffix in widget.suffixes)
            elif hasattr(widget, "widgets"):  # a MultiWidget: name_0, name_1, ...
                known.update(f"{name}_{i}" for i in range(len(widget.widgets)))
        # Paging and the other backends' parameters (ordering, search), where the view has them.
        for part in [getattr(view, "paginator", None), *getattr(view, "filter_backends", [])]:
            for attr in PARAMETER_ATTRIBUTES:
                value = getattr(part, attr, None)
                if isinstance(value, str):
                    known.add(value)
        return known


# --- serializers and permissions ----------------------------------------------------------


@extend_schema_serializer(
    description=gettext_lazy("One entry of an error body's `errors` (docs/api-errors.md).")
)
class ErrorEntrySerializer(serializers.Serializer):
    row = serializers.IntegerField(
        required=False, help_text=gettext_lazy("Index of the row in a batch")
    )
    field = serializers.CharField(
        required=False, help_text=gettext_lazy("Field name or dotted path")
    )
    code = serializers.CharField()
    message = serializers.CharField()


class CleanModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that also runs the model's own validation (clean() and constraints),
    so a rule broken through the API answers 400 naming the field, never a database error."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        plain = {
            k: v
            for k, v in attrs.items()
            if not isinstance(v, list | tuple | dict) and k in {f.name for f in model._meta.fields}
        }
        if self.instance is not None:
            candidate = copy.copy(self.instance)
            for key, value in plain.items():
                setattr(candidate, key, value)
        else:
            candidate = model(**plain)
        try:
            candidate.full_clean(validate_unique=False)
        except DjangoValidationError as exc:
            raise ValidationError(serializers.as_serializer_error(exc)) from exc
        return attrs


class ExternalRefUpsertMixin:
    """Create or update by the outside system's reference (a viewset's `create`): a POST
    naming an `external_ref` already known changes that record (200, with the "change"
    permission) instead of making another (201), so a record resent by an ERP changes
    nothing the second time. Without `external_ref`, or with a new one, a plain create."""

    def create(self, request, *args, **kwargs):
        data = request.data if isinstance(request.data, Mapping) else {}
        ref = data.get("external_ref")
        if isinstance(ref, str) and ref.strip():
            model = self.get_queryset().model
            existing = model._default_manager.filter(external_ref=ref.strip()).first()
            if existing is not None:
                policy.require(request.user, self.policy_resource, "change")
                serializer = self.get_serializer(existing, data=data, partial=True)
                serializer.is_valid(raise_exception=True)
                self.perform_update(serializer)
                return Response(serializer.data, status=status.HTTP_200_OK)
        return super().create(request, *args, **kwargs)


class PolicyPermission(BasePermission):
    """The API's one permission class (DEFAULT_PERMISSION_CLASSES): the view names its
    resource in the policy (`policy_resource`), and the request's verb becomes the policy's
    action — a viewset's action (`list` is view, `create` add, `partial_update` change,
    `destroy` delete, a custom @action its own name unless `policy_actions` maps it), or the
    HTTP method for a plain APIView (GET view, POST add, or what `policy_actions` says).

    A view that declares no resource is refused to everyone: a new endpoint is never open
    by accident. Anonymous callers are refused before that (401, core/auth.py)."""

    message = gettext_lazy(PERMISSION_DENIED)

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        # Imported here: DRF's routers load its views, which read the settings naming this module.
        from rest_framework.routers import APIRootView

        if isinstance(view, APIRootView):  # the list of endpoints
            return True
        resource, action = view_permission(view, request)
        if resource is None:
            return False
        if getattr(view, request.method.lower(), None) is None:
            return True  # no such operation here: the view answers 405
        if policy.may(request.user, resource, action):
            return True
        self.message = policy.refusal(resource, action)  # built only for whom it refuses
        return False

    def has_object_permission(self, request, view, obj):
        resource, action = view_permission(view, request)
        if resource is None:
            return False
        return policy.may(request.user, resource, action, obj)


def view_permission(view, request) -> tuple[str | None, str]:
    """The (resource, action) an API request asks of the policy."""
    resource = getattr(view, "policy_resource", None)
    if resource is None:
        return None, ""
    mapped = getattr(view, "policy_actions", {})
    name = getattr(view, "action", None)
    if name:
        action = mapped.get(name) or policy.VIEWSET_ACTIONS.get(name)
        if action is None:
            # A custom @action: its own name, or "view" for a read.
            action = "view" if request.method in SAFE_METHODS else name
    else:
        action = mapped.get(request.method) or policy.METHOD_ACTIONS.get(request.method, "")
    return resource, action


class PolicyFieldsMixin:
    """A serializer that leaves out the fields the policy hides from the caller:
    `policy_fields = {"costing.cost.view": ("standard_cost",)}`."""

    policy_fields: dict[str, tuple[str, ...]] = {}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None:
            return fields
        for permission, names in self.policy_fields.items():
            if not policy.can(request.user, permission):
                for name in names:
                    fields.pop(name, None)
        return fields


# --- the OpenAPI schema ---------------------------------------------------------------------

# The error answers every endpoint may give (docs/api-errors.md "Status codes"), by method;
# 404 also wherever the path names a record. An answer an operation documents itself (an
# `Acknowledge…` document, a rejected event's body) is left as it is.
ERROR_ANSWERS = {
    "400": gettext_lazy("Bad input: a field's value, an unknown query parameter, a bad page."),
    "401": gettext_lazy("No valid credentials."),
    "403": gettext_lazy("The role may not do this."),
    "404": gettext_lazy("No such record."),
    "409": gettext_lazy(
        "A legal request in the wrong state, or a delete of a record others still use."
    ),
    "413": gettext_lazy("The request body is larger than the server takes."),
    "415": gettext_lazy("A body that is neither JSON nor a form."),
    "429": gettext_lazy("Too many requests; `Retry-After` says how many seconds to wait."),
    "503": gettext_lazy("The database is unavailable or busy; retry in a few seconds."),
}
# drf-spectacular's own texts in the schema, which it has no Chinese for: marked here so that
# core's catalogue carries their translation (gettext reads every catalogue for a msgid).
SCHEMA_LIBRARY_TEXTS = (
    gettext_noop("No response body"),
    gettext_noop("Unspecified response body"),
)
_WRITES = ("post", "put", "patch", "delete")
_BODIES = ("post", "put", "patch")


def schema_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the one error body (`Error`) under every status
    an operation may answer besides its success, so a client generated from the schema and
    a conformance check know them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "ErrorEntry",
        {
            "type": "object",
            "properties": {
                "row": {
                    "type": "integer",
                    "description": gettext_lazy("Index of the row in a batch"),
                },
                "field": {
                    "type": "string",
                    "description": gettext_lazy("Field name or dotted path"),
                },
                "code": {"type": "string"},
                "message": {"type": "string"},
            },
            "required": ["code", "message"],
        },
    )
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "description": gettext_lazy("The API's one error body (docs/api-errors.md)."),
            "properties": {
                "detail": {"type": "string"},
                "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorEntry"}},
            },
            "required": ["detail", "errors"],
        },
    )
    _times_of_day(result)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["400", "401", "403", "429", "503"]
            if "{" in path:
                codes.append("404")
            if method in _WRITES:
                codes.append("409")
            if method in _BODIES:
                codes += ["413", "415"]
            for code in sorted(codes):
                operation["responses"].setdefault(
                    code, {"description": ERROR_ANSWERS[code], "content": body}
                )
            for code, answer in operation["responses"].items():
                if code >= "400" and not answer.get("content"):
                    answer["content"] = body  # declared by the view with its description only
    return result


# A time of day (a shift's start) is the plant's wall clock, `06:00:00`, with no offset: JSON
# Schema's `time` format is RFC 3339's full-time, which requires one.
TIME_OF_DAY = {
    "type": "string",
    "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
    "description": gettext_lazy("A time of day on the plant's clock, HH:MM:SS (no offset)."),
    "example": "06:00:00",
}


def _times_of_day(node) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("format") == "time":
            node.pop("format")
            for key, value in TIME_OF_DAY.items():
                node.setdefault(key, value)
        for value in node.values():
            _times_of_day(value)
    elif isinstance(node, list):
        for value in node:
            _times_of_day(value)
