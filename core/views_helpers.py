"""Small helpers for HTMX pages shared by every app."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render

from .roles import user_has_role


def whole_number(text: str | None) -> int | None:
    """The number a form or query field holds, or None. Only ASCII digits count: "²" and
    "٣" pass str.isdigit() but not int()."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def htmx_render(request, template: str, partial: str, context: dict, status: int = 200):
    """The full page, or just its partial when the request comes from HTMX (NetBox style)."""
    name = partial if getattr(request, "htmx", False) else template
    return render(request, name, context, status=status)


def role_required(*roles: str):
    """Signed-in users with one of the roles (or admin); others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not user_has_role(request.user, *roles):
                raise PermissionDenied(f"Only {', '.join(roles)} may do this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def error_text(exc: ValidationError) -> str:
    """A ValidationError as one line for a page, each message after the field it names."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
