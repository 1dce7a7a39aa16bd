"""Optional single sign-on, configured from the environment (docs/security.md).

- OIDC (mozilla-django-oidc; `pip install ".[oidc]"`) when OIDC_RP_CLIENT_ID is set: the
  login page links "Sign in with ..." to the plant's identity provider; roles come from a
  claim (core.sso.RoleClaimOIDCBackend).
- LDAP (django-auth-ldap; `pip install ".[ldap]"`, which builds python-ldap against the
  system's libldap) when AUTH_LDAP_SERVER_URI is set: the login page's username and password
  are checked against the directory; roles are the directory groups named after them.

Local accounts keep working beside either, and the login lockout covers LDAP's passwords too.
Neither package is needed while its variable is unset.
"""

from collections.abc import Mapping
from importlib.util import find_spec

from django.core.exceptions import ImproperlyConfigured

OIDC_BACKEND = "core.sso.RoleClaimOIDCBackend"
LDAP_BACKEND = "django_auth_ldap.backend.LDAPBackend"

# The role names (core.roles.Role), repeated here: settings are read before apps load.
ROLE_NAMES = (
    "operator",
    "inspector",
    "supervisor",
    "planner",
    "cost_accountant",
    "supply_chain_director",
    "plant_manager",
    "quality_supervisor",
    "maintenance",
    "admin",
    "integration",
)


def _required(env: Mapping[str, str], names: tuple[str, ...], what: str) -> dict[str, str]:
    missing = [name for name in names if not env.get(name, "").strip()]
    if missing:
        raise ImproperlyConfigured(f"{what} needs {', '.join(missing)} as well.")
    return {name: env[name].strip() for name in names}


def _package(module: str, extra: str, what: str) -> None:
    if find_spec(module) is None:
        raise ImproperlyConfigured(
            f"{what} is configured but {module} is not installed: pip install '.[{extra}]'."
        )


def role_map(raw: str, name: str) -> dict[str, str]:
    """`MES-Operators=operator,QA=inspector` as {value: role}."""
    mapping = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        value, _, role = part.rpartition("=")
        if not value or role not in ROLE_NAMES:
            raise ImproperlyConfigured(
                f"{name}={raw!r}: give value=role pairs with roles from {', '.join(ROLE_NAMES)}."
            )
        mapping[value.strip()] = role
    return mapping


def oidc_settings(env: Mapping[str, str]) -> dict:
    """Django settings for OIDC sign-in, or {} when OIDC_RP_CLIENT_ID is unset."""
    if not env.get("OIDC_RP_CLIENT_ID", "").strip():
        return {}
    what = "OIDC sign-in (OIDC_RP_CLIENT_ID)"
    _package("mozilla_django_oidc", "oidc", what)
    values = _required(
        env,
        (
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        ),
        what,
    )
    return {
        **values,
        "INSTALLED_APPS": ["mozilla_django_oidc"],
        "AUTHENTICATION_BACKENDS": [OIDC_BACKEND],
        "OIDC_RP_SIGN_ALGO": env.get("OIDC_RP_SIGN_ALGO", "RS256"),
        "OIDC_RP_SCOPES": env.get("OIDC_RP_SCOPES", "openid email profile"),
        "OIDC_ROLE_CLAIM": env.get("OIDC_ROLE_CLAIM", "groups"),
        "OIDC_ROLE_MAP": role_map(env.get("OIDC_ROLE_MAP", ""), "OIDC_ROLE_MAP"),
        "OIDC_USERNAME_CLAIM": env.get("OIDC_USERNAME_CLAIM", "preferred_username"),
        "OIDC_LOGIN_LABEL": env.get("OIDC_LOGIN_LABEL", "Sign in with the plant's account"),
    }


def ldap_settings(env: Mapping[str, str]) -> dict:
    """Django settings for LDAP sign-in, or {} when AUTH_LDAP_SERVER_URI is unset."""
    if not env.get("AUTH_LDAP_SERVER_URI", "").strip():
        return {}
    what = "LDAP sign-in (AUTH_LDAP_SERVER_URI)"
    _package("django_auth_ldap", "ldap", what)
    values = _required(env, ("AUTH_LDAP_USER_SEARCH_BASE", "AUTH_LDAP_GROUP_SEARCH_BASE"), what)

    import ldap  # python-ldap, installed with django-auth-ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    user_filter = env.get("AUTH_LDAP_USER_FILTER", "(uid=%(user)s)")
    group_filter = env.get("AUTH_LDAP_GROUP_FILTER", "(objectClass=groupOfNames)")
    return {
        "AUTHENTICATION_BACKENDS": [LDAP_BACKEND],
        "AUTH_LDAP_SERVER_URI": env["AUTH_LDAP_SERVER_URI"].strip(),
        "AUTH_LDAP_BIND_DN": env.get("AUTH_LDAP_BIND_DN", ""),
        "AUTH_LDAP_BIND_PASSWORD": env.get("AUTH_LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_START_TLS": env.get("AUTH_LDAP_START_TLS", "false").lower() in {"1", "true"},
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            values["AUTH_LDAP_USER_SEARCH_BASE"], ldap.SCOPE_SUBTREE, user_filter
        ),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            values["AUTH_LDAP_GROUP_SEARCH_BASE"], ldap.SCOPE_SUBTREE, group_filter
        ),
        "AUTH_LDAP_GROUP_TYPE": GroupOfNamesType(name_attr="cn"),
        # Directory groups whose cn is a role name decide the person's roles at each sign-in;
        # other Django groups are left alone.
        "AUTH_LDAP_MIRROR_GROUPS": list(ROLE_NAMES),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
    }
