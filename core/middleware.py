"""Middleware of the project's own."""

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpResponseBadRequest, JsonResponse, QueryDict
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.shortcuts import resolve_url
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_htmx.http import HttpResponseClientRedirect

from .api import NUL_CODE, NUL_MESSAGE, error_body, error_entry, is_api_request
from .auth import SESSION_IDLE_LIMIT, SESSION_LAST_SEEN, idle_seconds_for
from .lists import list_text
from .preferences import SESSION_LANGUAGE
from .sessions import current_session

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _with_nul(params: QueryDict) -> list[str]:
    return [k for k, values in params.lists() if "\x00" in k or any("\x00" in v for v in values)]


def _shown(name: str) -> str:
    return name.replace("\x00", "\\u0000")


class RefuseNulMiddleware:
    """Refuses a NUL character in the URL path, the query string or a form field with 400,
    naming the parameter, for pages and API alike. No text column takes NUL — PostgreSQL
    refuses the whole statement — so it would otherwise surface as a server error wherever a
    view passes the value on to a query. (JSON bodies: core.api.JSONParser.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self.refused(request)
        if refused is None:
            return self.get_response(request)
        detail, names = refused
        if is_api_request(request):
            message = gettext(NUL_MESSAGE)
            errors = [error_entry(message, field=_shown(n), code=NUL_CODE) for n in names]
            return JsonResponse(error_body(detail, errors), status=400)
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")

    @staticmethod
    def refused(request) -> tuple[str, list[str]] | None:
        if "\x00" in request.path_info:
            return gettext("The URL path contains a NUL character."), []
        if names := _with_nul(request.GET):
            text = gettext("A NUL character in the query parameter %(names)s.")
            return text % {"names": list_text(map(_shown, names))}, names
        form = None
        if request.method == "POST" and request.content_type in (FORM, MULTIPART):
            form = request.POST  # read here as CSRF protection does anyway; files are not text
        elif request.method in ("PUT", "PATCH") and request.content_type == FORM:
            form = QueryDict(request.body, encoding=request.encoding)  # Django parses POST only
        if form is not None and (names := _with_nul(form)):
            text = gettext("A NUL character in the form field %(names)s.")
            return text % {"names": list_text(map(_shown, names))}, names
        return None


# The last request's time is written to the session at most this often: the idle limit is
# then exact to a minute, and a busy page does not write its session on every request.
LAST_SEEN_RESOLUTION_SECONDS = 60


class IdleTimeoutMiddleware:
    """Signs a session out after its role's idle time (settings.SESSION_IDLE_MINUTES and
    SESSION_IDLE_MINUTES_BY_ROLE): a shop-floor terminal left signed in is not someone else's
    to use. The next page asks to log in again (an HTMX request redirects the whole page); an
    API request with the ended session is anonymous (401). Limits are set at sign-in
    (core.auth.session_idle_start); sessions without one get theirs on the first request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return self.get_response(request)
        now = int(timezone.now().timestamp())
        limit = session.get(SESSION_IDLE_LIMIT)
        if limit is None:
            limit = session[SESSION_IDLE_LIMIT] = idle_seconds_for(request.user)
        last_seen = session.get(SESSION_LAST_SEEN)
        if last_seen is not None and now - last_seen > limit:
            return self.signed_out(request)
        if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
            session[SESSION_LAST_SEEN] = now
        return self.get_response(request)

    def signed_out(self, request):
        logout(request)
        if is_api_request(request):
            return self.get_response(request)
        # `idle` makes the login page say why (templates/registration/login.html).
        login_url = f"{resolve_url(settings.LOGIN_URL)}?idle=1"
        if getattr(request, "htmx", False):
            page = request.htmx.current_url_abs_path or "/"
            return HttpResponseClientRedirect(redirect_to_login(page, login_url)["Location"])
        return redirect_to_login(request.get_full_path(), login_url)


class LocaleMiddleware(DjangoLocaleMiddleware):
    """The language of each request: the one chosen (kept on the account and copied into the
    session at sign-in, or picked on the login page; core.preferences), else Django's choice
    from the browser's Accept-Language. No language cookie: on a shared terminal the next
    person's browser language must count, not the last person's choice."""

    def process_request(self, request):
        session = getattr(request, "session", None)
        chosen = session.get(SESSION_LANGUAGE) if session is not None else None
        if chosen and translation.check_for_language(chosen):
            translation.activate(chosen)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, which also makes the request's session the `current_session` while the
    request is served: the authentication backend takes the signed-in user read with the
    session from there instead of reading it again (core/sessions.py)."""

    def __call__(self, request):
        self.process_request(request)
        token = current_session.set(request.session)
        try:
            response = self.get_response(request)
        finally:
            current_session.reset(token)
        return self.process_response(request, response)
