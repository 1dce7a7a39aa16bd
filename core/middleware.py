"""Middleware of the project's own."""

from django.http import HttpResponseBadRequest, JsonResponse, QueryDict

from .api import NUL_CODE, NUL_MESSAGE, error_body, error_entry, is_api_request

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
            errors = [error_entry(NUL_MESSAGE, field=_shown(n), code=NUL_CODE) for n in names]
            return JsonResponse(error_body(detail, errors), status=400)
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")

    @staticmethod
    def refused(request) -> tuple[str, list[str]] | None:
        if "\x00" in request.path_info:
            return "The URL path contains a NUL character.", []
        if names := _with_nul(request.GET):
            return f"A NUL character in the query parameter {', '.join(map(_shown, names))}.", names
        form = None
        if request.method == "POST" and request.content_type in (FORM, MULTIPART):
            form = request.POST  # read here as CSRF protection does anyway; files are not text
        elif request.method in ("PUT", "PATCH") and request.content_type == FORM:
            form = QueryDict(request.body, encoding=request.encoding)  # Django parses POST only
        if form is not None and (names := _with_nul(form)):
            return f"A NUL character in the form field {', '.join(map(_shown, names))}.", names
        return None
