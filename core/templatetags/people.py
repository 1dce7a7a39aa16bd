"""`{{ user|person }}`: a person's name as pages show it (core.formatting.person_name)."""

from django import template

from core.formatting import person_name

register = template.Library()


@register.filter
def person(user) -> str:
    return person_name(user)
