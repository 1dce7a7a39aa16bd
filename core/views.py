from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from .roles import Role


def home(request):
    """Landing page: what ClosedLoop is and where each role goes."""
    roles = []
    if request.user.is_authenticated:
        roles = sorted(request.user.groups.values_list("name", flat=True))
    return render(
        request,
        "core/home.html",
        {"roles": [Role.LABELS.get(r, r) for r in roles]},
    )


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
