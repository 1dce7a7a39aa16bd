"""OIDC sign-in's roles: a person's role groups follow a claim of the identity provider at
every sign-in (config/sso.py wires this backend only when OIDC is configured; the package
mozilla-django-oidc is then installed, and this module is imported by no one else)."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .roles import Role


def claim_roles(claims: dict) -> set[str]:
    """The roles a claim names, directly or through OIDC_ROLE_MAP; unknown values are ignored."""
    values = claims.get(settings.OIDC_ROLE_CLAIM) or []
    if isinstance(values, str):
        values = [values]
    mapping = settings.OIDC_ROLE_MAP
    named = {mapping.get(str(value), str(value)) for value in values}
    return named & set(Role.ALL)


class RoleClaimOIDCBackend(OIDCAuthenticationBackend):
    """Users are matched by e-mail (the library's rule), named after OIDC_USERNAME_CLAIM, and
    given exactly the roles the claim names; groups that are no role are left alone."""

    def get_username(self, claims):
        return claims.get(settings.OIDC_USERNAME_CLAIM) or super().get_username(claims)

    def create_user(self, claims):
        with transaction.atomic():
            user = super().create_user(claims)
            return self.update_user(user, claims)

    def update_user(self, user, claims):
        user.first_name = claims.get("given_name", user.first_name)[:150]
        user.last_name = claims.get("family_name", user.last_name)[:150]
        user.save(update_fields=["first_name", "last_name"])
        roles = claim_roles(claims)
        keep = user.groups.exclude(name__in=Role.ALL)
        user.groups.set([*keep, *(Group.objects.get_or_create(name=r)[0] for r in sorted(roles))])
        return user
