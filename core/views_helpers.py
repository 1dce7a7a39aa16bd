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


def error_text(errors: ValidationError | dict, labels: dict[str, str] | None = None) -> str:
    """A ValidationError (or its {field: messages}) as one line for a page: each field's
    messages after the field's name — or, given `labels`, after its label, and alone for a
    field without one (what an operator needs is the message, not a form's field name)."""
    if isinstance(errors, ValidationError):
        errors = errors.message_dict if hasattr(errors, "error_dict") else {"": errors.messages}
    parts = []
    for field, messages in errors.items():
        text = " ".join(messages) if isinstance(messages, list | tuple) else str(messages)
        label = field if labels is None else labels.get(field)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)
