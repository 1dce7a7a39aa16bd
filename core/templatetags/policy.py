"""`{% load policy %}`: the permission policy in templates (core/policy.py).

    {% if user|can:"planning.mrp.run" %}<button hx-post="...">Run MRP</button>{% endif %}
    {% if user|can_on:task|can:"execution.task.record" %} ... (object rules: see `can_on`)

Every button, link and form that performs an action is wrapped in such a test, so a role
never sees what would answer 403.
"""

from django import template

from core import policy

register = template.Library()


class _UserOn:
    """A user and an object, for the object rules: `user|can_on:task|can:"..."`."""

    def __init__(self, user, obj):
        self.user, self.obj = user, obj


@register.filter
def can_on(user, obj):
    return _UserOn(user, obj)


@register.filter
def can(user, permission: str) -> bool:
    if isinstance(user, _UserOn):
        return policy.can(user.user, permission, user.obj)
    return policy.can(user, permission)
