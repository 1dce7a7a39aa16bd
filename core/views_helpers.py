"""Small helpers for HTMX pages shared by every app."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import Http404
from django.shortcuts import render

from . import policy


def whole_number(text: str | None) -> int | None:
    """The number a form or query field holds, or None. Only ASCII digits count: "²" and
    "٣" pass str.isdigit() but not int()."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def htmx_render(request, template: str, partial: str, context: dict, status: int = 200):
    """The full page, or just its partial when the request comes from HTMX (NetBox style)."""
    name = partial if getattr(request, "htmx", False) else template
    return render(request, name, context, status=status)


def policy_required(permission: str):
    """Signed-in users the permission policy lets through (core/policy.py); others get 403.

    `permission` is "resource.action" ("planning.mrp.run"); it may name a URL argument
    ("planning.productionorder.{action}"), and an action the policy does not know is a 404.
    The view keeps it as `policy_permission`, which the top bar and the tests read."""
    if "{" not in permission:
        policy.split(permission)  # a misspelt permission fails at import, not at request

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            wanted = permission.format(**kwargs) if "{" in permission else permission
            try:
                resource, action = policy.split(wanted)
            except ImproperlyConfigured:
                raise Http404(f"No such action: {wanted.rpartition('.')[2]}.") from None
            policy.require(request.user, resource, action)
            return view(request, *args, **kwargs)

        wrapped.policy_permission = permission
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
