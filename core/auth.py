"""Signing in: the API's authentication classes, the login lockout's glue, session idle times.

- `ApiTokenAuthentication` (first in REST_FRAMEWORK, so its challenge answers every request
  without valid credentials: 401 with `WWW-Authenticate: Bearer realm="api"`);
- `DevelopmentBasicAuthentication`: a person's password over Basic, only with API_BASIC_AUTH
  (development; production refuses it);
- the lockout (django-axes): `LockoutBackend` refuses a locked-out username+address before any
  password is checked; token and Basic failures count like the login page's; a locked-out
  request answers `lockout_response`: the locked-out page inside the layout, or under /api/
  the API's error body, 429 with Retry-After.
"""

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    BasicAuthentication,
    get_authorization_header,
)

from .api import error_body, is_api_request
from .rawsql import Columns, cursor_prepared
from .roles import user_with_roles_sql
from .sessions import current_session
from .tokens import TokenRefused, api_token_check, token_prefix

REALM = "api"
LOCKED_OUT = gettext_noop(
    "Too many failed sign-ins for this account from this address; try again in %(minutes)d minutes."
)


def lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out_message() -> str:
    return gettext(LOCKED_OUT) % {"minutes": lockout_seconds() // 60}


class LockedOut(exceptions.APIException):
    """A sign-in refused by the lockout: 429 with Retry-After (DRF's handler sends `wait`)."""

    status_code = 429
    default_code = "locked_out"

    def __init__(self):
        super().__init__(locked_out_message())
        self.wait = lockout_seconds()


def client_ip(request) -> str | None:
    """The caller's address, as DRF's throttles see it: REMOTE_ADDR, or with
    TRUSTED_PROXY_COUNT proxies in front the address the outermost of them appended."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend, but a sign-in without a request (a shell, a management command,
    a password check inside a signed decision) is let through to the other backends: there
    is no address to lock, and refusing it would be an error, not a protection."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class AccountBackend(ModelBackend):
    """Django's ModelBackend (passwords, `is_active`, model permissions), with the signed-in
    user read back by a statement written once and prepared (core/rawsql.py), together with
    the names of its roles (one row per role), which the permission policy asks of every
    request next.

    Every request of a signed-in browser or terminal loads its user; the ORM's `get` built
    the query anew each time and cost more CPU than running it (bench/README.md "The
    single-event path"). Same row, same instance, same `user_can_authenticate` rule; the
    roles are what `user_roles` would read (core/roles.py), kept on the instance."""

    _sql: dict[tuple[str, type], tuple[str, Columns]] = {}

    def get_user(self, user_id):
        model = get_user_model()
        # Read with the request's session already (core/sessions.py): the same row.
        session = current_session.get()
        prefetched = session.prefetched_user if session is not None else None
        if prefetched is not None and str(prefetched[0]) == str(user_id):
            user = prefetched[1]
            if user is None:
                return None
            return user if self.user_can_authenticate(user) else None
        connection = connections[DEFAULT_DB_ALIAS]
        key = (connection.vendor, model)
        if key not in self._sql:
            columns = Columns(model, "u")
            self._sql[key] = (user_with_roles_sql(model, columns), columns)
        sql, columns = self._sql[key]
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        with cursor_prepared() as cursor:
            cursor.execute(sql, [pk])
            rows = cursor.fetchall()
        if not rows:
            return None
        user = columns.instance(rows[0], 0)
        user._role_names = {row[-1] for row in rows if row[-1] is not None}
        return user if self.user_can_authenticate(user) else None


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out sign-in answers (AXES_LOCKOUT_CALLABLE): under /api/ the API's error
    body, elsewhere the locked-out page inside the layout; 429 with Retry-After for both."""
    if is_api_request(request):
        response = JsonResponse(error_body(locked_out_message()), status=429)
    else:
        username = (credentials or {}).get("username") or request.POST.get("username", "")
        response = render(
            request,
            "registration/locked_out.html",
            {
                "username": username,
                "minutes": lockout_seconds() // 60,
                "failure_limit": settings.AXES_FAILURE_LIMIT,
            },
            status=429,
        )
    response["Retry-After"] = str(lockout_seconds())
    return response


def _lockout_checked(request, username: str, refuse):
    """Count one failed sign-in of `username` from this address; LockedOut when that reaches
    the limit, `refuse` (an exception to raise) otherwise."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut()
    raise refuse


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` with a service account's API token (core.tokens). Wrong
    keys count toward the lockout under the token's prefix and the caller's address, so a
    guessed secret is locked out like a guessed password, without locking out other tokens."""

    keyword = "bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                gettext("Give the token after 'Bearer ', in one piece.")
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(gettext("Invalid token.")) from None
        http_request = request._request
        username = f"API token {token_prefix(key)}"
        if AxesProxyHandler.is_locked(http_request, {"username": username}):
            raise LockedOut()
        try:
            token = api_token_check(key)
        except TokenRefused as refused:
            _lockout_checked(
                http_request, username, exceptions.AuthenticationFailed(gettext(refused.reason))
            )
        return (token.user, token)

    def authenticate_header(self, request):
        return f'Bearer realm="{REALM}"'


class DevelopmentBasicAuthentication(BasicAuthentication):
    """HTTP Basic with a person's username and password, only where API_BASIC_AUTH is on
    (development); the lockout applies as on the login page."""

    www_authenticate_realm = REALM

    def authenticate(self, request):
        if not settings.API_BASIC_AUTH:
            return None
        return super().authenticate(request)

    def authenticate_credentials(self, userid, password, request=None):
        # Django's request, not DRF's: the lockout marks it and reads its address.
        http_request = getattr(request, "_request", request)
        field = get_user_model().USERNAME_FIELD
        user = authenticate(request=http_request, **{field: userid, "password": password})
        if getattr(http_request, "axes_locked_out", False):
            raise LockedOut()
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(gettext("Invalid username/password."))
        return (user, None)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI description, so /api/docs/ offers it under Authorize."""

    target_class = "core.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": gettext("A service account's API token, issued in the admin."),
        }


class DevelopmentBasicScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.DevelopmentBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": gettext("Development only.")}


# --- session idle time ---------------------------------------------------------------------

SESSION_IDLE_LIMIT = "closedloop_idle_seconds"
SESSION_LAST_SEEN = "closedloop_last_seen"


def idle_seconds_for(user) -> int:
    """The idle time after which this user's session ends: the shortest of their roles'
    (SESSION_IDLE_MINUTES_BY_ROLE), else SESSION_IDLE_MINUTES."""
    by_role = settings.SESSION_IDLE_MINUTES_BY_ROLE
    names = set(user.groups.values_list("name", flat=True)) if by_role else set()
    minutes = [by_role[name] for name in names if name in by_role]
    return 60 * min(minutes, default=settings.SESSION_IDLE_MINUTES)


def session_idle_start(sender, request, user, **kwargs) -> None:
    """On sign-in (user_logged_in): the session's idle limit, looked up once, not per request."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[SESSION_IDLE_LIMIT] = idle_seconds_for(user)
    session[SESSION_LAST_SEEN] = int(timezone.now().timestamp())
